// The membrane between host objects and script code. Every host value a script can reach (named
// items, invoke arguments, what host methods return or throw) passes through toScript(), which
// hides the host realm: no `constructor`, `__proto__` or prototype of a host object is reachable,
// so a script cannot climb to the host's Function and from there to `process` or `require`.
// Host promises become promises of the script's own realm, and each settlement asks the engine to
// run the continuations it made ready (the context's microtasks run only inside engine runs).

type AnyFunction = (...args: unknown[]) => unknown;

const HIDDEN_KEYS = new Set<PropertyKey>(['constructor', '__proto__', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);

/** Wraps host values for one engine's context; owner thread only. */
export class HostMembrane {
  private readonly proxies = new WeakMap<object, object>();
  private readonly targets = new WeakMap<object, object>();

  /**
   * @param ScriptPromise the context's Promise constructor
   * @param onSettled called after a host promise seen by the script settles
   */
  constructor(private readonly ScriptPromise: PromiseConstructor, private readonly onSettled: () => void) {}

  /** A host value as the script may see it. */
  toScript(value: unknown): unknown {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
    const unwrapped = this.targets.get(value);
    if (unwrapped !== undefined) return value;
    if (isThenable(value)) return this.scriptPromiseOf(value);
    let proxy = this.proxies.get(value);
    if (proxy === undefined) {
      proxy = new Proxy(value, this.handler());
      this.proxies.set(value, proxy);
      this.targets.set(proxy, value);
    }
    return proxy;
  }

  /** A value coming from the script, with membrane wrappers removed (top level only). */
  toHost(value: unknown): unknown {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
    return this.targets.get(value) ?? value;
  }

  private scriptPromiseOf(thenable: PromiseLike<unknown>): unknown {
    return new this.ScriptPromise((resolve, reject) => {
      thenable.then(
        (v) => { resolve(this.toScript(v)); this.onSettled(); },
        (e) => { reject(this.toScript(e)); this.onSettled(); },
      );
    });
  }

  private handler(): ProxyHandler<object> {
    const toScript = (v: unknown) => this.toScript(v);
    const toHost = (v: unknown) => this.toHost(v);
    const guard = <T>(run: () => T): T => {
      try {
        return run();
      } catch (error) {
        throw toScript(error);
      }
    };
    return {
      get: (target, key) => (HIDDEN_KEYS.has(key) ? undefined : guard(() => toScript(Reflect.get(target, key, target)))),
      set: (target, key, value) => !HIDDEN_KEYS.has(key) && guard(() => Reflect.set(target, key, toHost(value), target)),
      has: (target, key) => !HIDDEN_KEYS.has(key) && Reflect.has(target, key),
      // A null prototype for every host object; a frozen host object refuses instead (Proxy invariant).
      getPrototypeOf: () => null,
      setPrototypeOf: () => false,
      getOwnPropertyDescriptor: (target, key) => {
        if (HIDDEN_KEYS.has(key)) return undefined;
        const d = Reflect.getOwnPropertyDescriptor(target, key);
        if (d === undefined) return undefined;
        if ('value' in d) return { ...d, value: toScript(d.value) };
        return { ...d, get: d.get && (toScript(d.get) as () => unknown), set: d.set && (toScript(d.set) as (v: unknown) => void) };
      },
      defineProperty: (target, key, d) => !HIDDEN_KEYS.has(key) && Reflect.defineProperty(target, key, 'value' in d ? { ...d, value: toHost(d.value) } : d),
      apply: (target, thisArg, args) => guard(() => toScript(Reflect.apply(target as AnyFunction, toHost(thisArg), args.map(toHost)))),
      construct: (target, args) => guard(() => toScript(Reflect.construct(target as new (...a: unknown[]) => object, args.map(toHost)))) as object,
    };
  }
}

function isThenable(value: object): value is PromiseLike<unknown> {
  try {
    return typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}
