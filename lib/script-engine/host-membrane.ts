// The membrane between host values and script code. A script's own realm has no `process` or
// `require`, but any host object it can touch leads back to the host realm through its
// `constructor` or prototype (host object → host Function → `return process`). Every host value a
// script reaches (named items, invoke arguments, what host methods return or throw) passes through
// toScript(), which hands out a Proxy that hides those keys and reports a null prototype; host
// promises become promises of the script's realm. The other way, a script function that reaches
// host code (assigned to a host object, defined as its getter or setter, passed to a host method,
// to another apartment's object, or returned) is handed over as a host function that wraps: whoever
// calls it, host code, a host builtin such as forEach or toLocaleString, or another apartment through
// its proxy, the script function gets `this` and its arguments through toScript(). A value of the
// script's own that comes back out of host code is handed back as itself, never wrapped as a host
// value: the traps unwrap what they hand on, so a wrapped script object or function would receive
// raw host values; one whose realm cannot be told (no prototype) is wrapped with traps that unwrap
// nothing. Binary data (typed arrays, DataView and their
// buffers) is handed over as it is, because Atomics and typed-array methods refuse a Proxy:
// a script given binary data can reach the host realm, which docs/script-engine.md states.

import { isArrayBuffer, isSharedArrayBuffer } from 'node:util/types';
import type { RealmGuard } from './realm-seal.js';
import { OPEN_BORDER, type ScriptBorder } from './script-run.js';
import type { StackGetter } from './script-source.js';

type AnyFunction = (...args: unknown[]) => unknown;

const HIDDEN_KEYS = new Set<PropertyKey>(['constructor', '__proto__', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);
/** The most arguments a spreading builtin is handed through the membrane (V8's limit for apply). */
const MAX_SPREAD = 65535;
/**
 * The most elements and properties of the script's arrays and objects one call hands to host code,
 * all together: each is copied, and a sparse array may claim any length (sixty-four of 3M elements
 * each asked for 1.5 GB of copies).
 */
const MAX_ARG_ENTRIES = 1 << 22;
/** Past this many prototypes a chain's realm is not looked for further (a Proxy may make it endless). */
const MAX_CHAIN = 256;

/**
 * Which realm a value handed to toScript() belongs to, told by where its prototype chain ends: at
 * the script realm's Object.prototype, at the host's, or neither (no prototype at all). A script
 * cannot make a chain reach the host's Object.prototype: it holds nothing of the host's realm.
 */
type Side = 'script' | 'host' | 'unknown';

/** Every membrane's proxies, by the host value each wraps (this thread's engines). */
const hostValues = new WeakMap<object, object>();

/** The host value behind a membrane proxy, or undefined for anything else. */
export function hostValueBehind(value: unknown): object | undefined {
  return value !== null && (typeof value === 'object' || typeof value === 'function') ? hostValues.get(value) : undefined;
}

/** Wraps host values for one engine's script realm; owner apartment only. */
export class HostMembrane {
  private readonly proxies = new WeakMap<object, object>();
  private readonly targets = new WeakMap<object, object>();
  /**
   * Proxies of values of no known realm (no prototype): their traps hand the value what the script
   * gave, never a host value unwrapped, since the value may be the script's own.
   */
  private readonly unknownSide = new WeakSet<object>();
  /**
   * Objects of the script's that a call handed to host code as they are (of its classes, found so
   * inside the script's run): they go back as themselves without their realm being looked up again,
   * which would run a Proxy's traps in host code, outside the run, where no stop lands.
   */
  private readonly handedAsIs = new WeakSet<object>();
  /**
   * The host builtins that call a function with the elements of an array (Function.prototype.apply,
   * Reflect.apply and Reflect.construct), each as a script sees it: a stand-in that hands on those
   * elements through toHost(), as the traps hand on arguments. Called as they are, they would pass a
   * script function in the script's array to host code unwrapped, which calls it with host values.
   */
  private readonly spreaders: Map<unknown, AnyFunction>;
  /** The script realm's Object.prototype, where the chain of every ordinary script value ends. */
  private readonly scriptObjectPrototype: object;
  /** The host value behind each proxy's shadow target (see toScript). */
  private readonly behindShadow = new WeakMap<object, object>();
  /** Script functions by the host wrapper they were handed over as, and the other way. */
  private readonly scriptFunctions = new WeakMap<object, AnyFunction>();
  private readonly wrappers = new WeakMap<AnyFunction, AnyFunction>();
  /** The one handler of every proxy this membrane makes: the realm's guarded traps over handler(). */
  private guardedHandler: ProxyHandler<object> | undefined;
  /** The same over handler() that hands values on as the script gave them (values of unknown realm). */
  private guardedAsGiven: ProxyHandler<object> | undefined;

  /**
   * @param ScriptPromise the script realm's Promise constructor
   * @param guard the realm's guard (realm-seal.ts): it makes the proxies, in the script's realm, with its own functions as traps
   * @param realmStack V8's `stack` getter of the script realm, where errors have one: the one getter
   *   the host may call to read where a script's error was thrown
   * @param border how host code the script calls, and script code host code calls back, are run
   */
  constructor(private readonly ScriptPromise: PromiseConstructor, private readonly guard: RealmGuard, readonly realmStack?: StackGetter, private readonly border: ScriptBorder = OPEN_BORDER) {
    this.scriptObjectPrototype = Object.getPrototypeOf(ScriptPromise.prototype) as object;
    // Read inside the border as well: the array-like may be the script's (a getter, a Proxy's trap).
    const list = (arrayLike: unknown): unknown[] => this.border.inside(() => this.argsToHost(listFromArrayLike(arrayLike)));
    const apply = Function.prototype.apply;
    this.spreaders = new Map<unknown, AnyFunction>([
      [apply, function (this: unknown, thisArg: unknown, args?: unknown) {
        return Reflect.apply(apply, this, [thisArg, args === null || args === undefined ? args : list(args)]);
      }],
      [Reflect.apply, (fn: unknown, thisArg: unknown, args: unknown) => Reflect.apply(fn as AnyFunction, thisArg, list(args))],
      [Reflect.construct, (fn: unknown, args: unknown, ...newTarget: unknown[]) => Reflect.construct(fn as AnyFunction, list(args), ...(newTarget as [AnyFunction]))],
    ]);
  }

  /** A host value as a script may see it. */
  toScript(value: unknown): unknown {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
    if (this.targets.has(value) || isBinary(value) || this.handedAsIs.has(value)) return value;
    const scriptFunction = this.scriptFunctions.get(value);
    if (scriptFunction) return scriptFunction;
    const spreader = this.spreaders.get(value);
    if (spreader) return this.toScript(spreader);
    // A value of the script's own that host code held (set on a host object, copied into a host
    // array) goes back as itself: wrapped, its traps would hand it host values unwrapped.
    const side = this.sideOf(value);
    if (side === 'script') return value;
    if (isThenable(value)) return this.scriptPromiseOf(value);
    let proxy = this.proxies.get(value);
    if (proxy === undefined) {
      // The proxy's target is a shadow of the script's realm, not the host value: V8 checks a
      // proxy's answers against its target by calling the target's own internal methods, which for
      // a host value that is itself a proxy (a remote object's) would run host code the guard never
      // sees. So every trap answers for the host value, and the shadow stays empty and extensible.
      const asGiven = side === 'unknown';
      const handler = asGiven ? (this.guardedAsGiven ??= this.guard.guardHandler(this.handler((v) => v, (args) => args))) : (this.guardedHandler ??= this.guard.guardHandler(this.handler((v) => this.toHost(v), (args) => this.argsToHost(args))));
      const shadow = this.guard.shadow(typeof value === 'function');
      this.behindShadow.set(shadow, value);
      proxy = this.guard.proxy(shadow, handler);
      if (asGiven) this.unknownSide.add(proxy);
      this.proxies.set(value, proxy);
      this.targets.set(proxy, value);
      hostValues.set(proxy, value);
    }
    return proxy;
  }

  /**
   * A value leaving the script: a membrane proxy becomes its host value again, a script function a
   * host function that wraps what it is called with (top level only).
   */
  toHost(value: unknown): unknown {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return value;
    const target = this.targets.get(value);
    // A function of unknown realm may be the script's: host code calls it through a wrapper too.
    if (target !== undefined) return typeof target === 'function' && this.unknownSide.has(value) ? this.hostFunctionOf(target as AnyFunction, value as AnyFunction) : target;
    return typeof value === 'function' ? this.hostFunctionOf(value as AnyFunction) : value;
  }

  /**
   * The arguments of one call the script makes into host code (and its `this`), each through
   * argToHost(). Run inside the border, as the script's code: reading them runs the script's (a
   * getter, a Proxy's trap), which must stay under its time limit and interruptScript. An object
   * passed twice in one call (or found twice in what it passes) is handed over as one copy, as host
   * code would have seen it before. Arguments with no object of the script's among them (values,
   * functions, host objects: most calls) are handed over without going back inside: a stop may land
   * anywhere inside, and this runs on the way into host code, not in the script's own code.
   */
  private argsToHost(args: readonly unknown[]): unknown[] {
    if (args.every((v) => v === null || typeof v !== 'object' || this.targets.has(v))) return args.map((v) => this.toHost(v));
    return this.border.inside(() => {
      const copying: Copying = { copies: new Map<object, object>(), left: MAX_ARG_ENTRIES };
      return args.map((v) => this.argToHost(v, copying));
    });
  }

  /**
   * An argument the script passes to host code: toHost(), except that an array or a plain object of
   * the script's is handed over as a host copy of its elements or own enumerable properties, each
   * handed over the same way. Handed over as it is, a script function in it would reach host code
   * unwrapped (an array crosses apartments element by element, so it would be exported as it is),
   * and host code or another apartment would call it back with raw host values. A getter of such an
   * object runs as the script's code (argsToHost runs this inside the border). Objects of the
   * script's classes and of no prototype are handed over as they are.
   */
  private argToHost(value: unknown, copying: Copying): unknown {
    if (value === null || typeof value !== 'object' || this.targets.has(value) || this.sideOf(value) !== 'script') return this.toHost(value);
    const array = Array.isArray(value);
    // Of the script's objects, plain ones only: one of its classes keeps its methods (handed over as it is).
    if (!array && !this.isPlain(value)) {
      this.handedAsIs.add(value);
      return value;
    }
    const copies = copying.copies;
    const done = copies.get(value);
    if (done !== undefined) return done;
    if (array) {
      const list = value as unknown[];
      // Read once: a getter may grow the array while it is copied.
      const length = lengthOf(list);
      spend(copying, length, true);
      const copy: unknown[] = [];
      copies.set(value, copy);
      // Index by index, as the copy to another apartment would read it: no method of the script's
      // array runs. A hole stays a hole, as structured clone keeps it: a sparse array's copy holds
      // only what the array does (dense, sixty-four kept copies of 3M holes each took 1.5 GB).
      for (let i = 0; i < length; i++) if (i in list) copy[i] = this.argToHost(list[i], copying);
      copy.length = length;
      return copy;
    }
    const keys = Object.keys(value);
    spend(copying, keys.length, false);
    const copy: Record<string, unknown> = {};
    copies.set(value, copy);
    for (const key of keys) {
      const d = Reflect.getOwnPropertyDescriptor(value, key);
      if (d === undefined) continue;
      const read = 'value' in d ? d.value : d.get === undefined ? undefined : Reflect.apply(d.get, value, []);
      // A data property, as structured clone would make it: `__proto__` among the keys stays a key.
      Reflect.defineProperty(copy, key, { value: this.argToHost(read, copying), enumerable: true, writable: true, configurable: true });
    }
    return copy;
  }

  /** Whether `value`, of the script's realm, is a plain object of it (its prototype the realm's Object.prototype). */
  private isPlain(value: object): boolean {
    try {
      return Reflect.getPrototypeOf(value) === this.scriptObjectPrototype;
    } catch {
      return false;
    }
  }

  /** Which realm `value` belongs to (see Side). */
  private sideOf(value: object): Side {
    let at: object | null = value;
    try {
      for (let hops = 0; at !== null && hops < MAX_CHAIN; hops++) {
        if (at === this.scriptObjectPrototype) return 'script';
        if (at === Object.prototype) return 'host';
        at = Reflect.getPrototypeOf(at);
      }
    } catch {
      // A Proxy of the script's whose getPrototypeOf trap threw (its trap runs here, as the `then`
      // read of isThenable does): of no realm the membrane can vouch for.
    }
    return 'unknown';
  }

  /** The host function a script function is handed over as: one per script function; `scriptSide` is what it reads as back in the script. */
  private hostFunctionOf(fn: AnyFunction, scriptSide: AnyFunction = fn): AnyFunction {
    let wrapper = this.wrappers.get(fn);
    if (wrapper === undefined) {
      const toScript = (v: unknown): unknown => this.toScript(v);
      const toHost = (v: unknown): unknown => this.toHost(v);
      const border = this.border;
      wrapper = function (this: unknown, ...args: unknown[]): unknown {
        const self = toScript(this);
        const scriptArgs = args.map(toScript);
        return toHost(border.inside(() => Reflect.apply(fn, self, scriptArgs)));
      };
      this.wrappers.set(fn, wrapper);
      this.scriptFunctions.set(wrapper, scriptSide);
    }
    return wrapper;
  }

  /** True for a proxy this membrane made. */
  wraps(value: unknown): boolean {
    return value !== null && (typeof value === 'object' || typeof value === 'function') && this.targets.has(value);
  }

  private scriptPromiseOf(thenable: PromiseLike<unknown>): unknown {
    return new this.ScriptPromise((resolve, reject) => {
      thenable.then((v) => {
        resolve(this.toScript(v));
        this.border.settled?.();
      }, (e: unknown) => {
        reject(this.toScript(e));
        this.border.settled?.();
      });
    });
  }

  /**
   * The traps of the membrane's proxies; `toHost` is how they hand on what the script gives, `toArgs`
   * how they hand on the arguments of a call.
   */
  private handler(toHost: (v: unknown) => unknown, toArgs: (args: unknown[]) => unknown[]): ProxyHandler<object> {
    const toScript = (v: unknown): unknown => this.toScript(v);
    const behind = this.behindShadow;
    const real = (shadow: object): object => behind.get(shadow)!;
    // Every trap that runs host code runs it outside the script's run (see ScriptBorder), and what
    // it throws reaches the script wrapped too: a host Error is a host object.
    const border = this.border;
    const host = <T>(run: () => T): T => {
      try {
        return border.outside(run);
      } catch (error) {
        throw toScript(error);
      }
    };
    return {
      get: (shadow, key) => {
        if (HIDDEN_KEYS.has(key)) return undefined;
        const target = real(shadow);
        return host(() => toScript(Reflect.get(target, key, target)));
      },
      set: (shadow, key, value) => {
        const target = real(shadow);
        return !HIDDEN_KEYS.has(key) && host(() => Reflect.set(target, key, toHost(value), target));
      },
      has: (shadow, key) => !HIDDEN_KEYS.has(key) && host(() => Reflect.has(real(shadow), key)),
      deleteProperty: (shadow, key) => !HIDDEN_KEYS.has(key) && host(() => Reflect.deleteProperty(real(shadow), key)),
      ownKeys: (shadow) => host(() => Reflect.ownKeys(real(shadow)).filter((key) => !HIDDEN_KEYS.has(key))),
      // Every host object shows a null prototype, and stays extensible to the script (its shadow
      // does: a proxy must answer these as its target would).
      getPrototypeOf: () => null,
      setPrototypeOf: () => false,
      isExtensible: () => true,
      preventExtensions: () => false,
      getOwnPropertyDescriptor: (shadow, key) => {
        if (HIDDEN_KEYS.has(key)) return undefined;
        return host(() => {
          const d = Reflect.getOwnPropertyDescriptor(real(shadow), key);
          if (d === undefined) return undefined;
          // Reported configurable: the shadow has no such property, and a proxy may report a
          // non-configurable one only where its target has it (frozen host objects read as usual).
          if ('value' in d) return { ...d, configurable: true, value: toScript(d.value) };
          return { ...d, configurable: true, get: d.get && (toScript(d.get) as () => unknown), set: d.set && (toScript(d.set) as (v: unknown) => void) };
        });
      },
      defineProperty: (shadow, key, d) => !HIDDEN_KEYS.has(key) && d.configurable !== false && host(() => Reflect.defineProperty(real(shadow), key, hostDescriptor(d, toHost))),
      // `this` is handed over with the arguments: a host method writes host values into it (a host
      // push into the script's object with a setter at 0), so a plain object of the script's is copied.
      apply: (shadow, thisArg, args) =>
        host(() => {
          const [self, ...list] = toArgs([thisArg, ...args]);
          return toScript(Reflect.apply(real(shadow) as AnyFunction, self, list));
        }),
      construct: (shadow, args) => host(() => toScript(Reflect.construct(real(shadow) as new (...a: unknown[]) => object, toArgs(args)))) as object,
    };
  }
}

/** The copies one call's arguments are handed over as so far, and how many more entries they may hold. */
interface Copying {
  copies: Map<object, object>;
  left: number;
}

/** Count the `entries` of one more array or object into a call's copies, before it is copied. */
function spend(copying: Copying, entries: number, array: boolean): void {
  if (entries > copying.left) {
    const what = array ? `an array of ${entries} elements` : `an object of ${entries} properties`;
    throw new RangeError(`[membrane] ${what} would take the copies one call hands to host code past ${MAX_ARG_ENTRIES} elements and properties in all; pass less at a time`);
  }
  copying.left -= entries;
}

/**
 * An array-like's `length` as a count, as the builtins read it (ToLength): a Proxy's may be anything,
 * and NaN or a negative one would slip past a bound.
 */
function lengthOf(arrayLike: ArrayLike<unknown>): number {
  return Math.min(Math.max(Math.trunc(Number(arrayLike.length)) || 0, 0), 2 ** 53 - 1);
}

/** The elements of an array-like, as the spreading builtins read them (a TypeError for a non-object). */
function listFromArrayLike(arrayLike: unknown): unknown[] {
  if (arrayLike === null || (typeof arrayLike !== 'object' && typeof arrayLike !== 'function')) throw new TypeError('[membrane] the arguments list must be an array or array-like object');
  const length = lengthOf(arrayLike as ArrayLike<unknown>);
  // V8's own bound on a spread call's arguments, checked before anything is read.
  if (length > MAX_SPREAD) throw new RangeError(`[membrane] too many arguments in a function call (${length}; at most ${MAX_SPREAD})`);
  const out: unknown[] = [];
  for (let i = 0; i < length; i++) out.push((arrayLike as ArrayLike<unknown>)[i]);
  return out;
}

/** Binary data of either realm; read without running a Proxy's traps (`instanceof` would run getPrototypeOf). */
function isBinary(value: object): boolean {
  return ArrayBuffer.isView(value) || isArrayBuffer(value) || isSharedArrayBuffer(value);
}

function isThenable(value: object): value is PromiseLike<unknown> {
  try {
    return typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}

/** A descriptor a script defines on a host object, with its value, getter and setter handed over. */
function hostDescriptor(d: PropertyDescriptor, toHost: (v: unknown) => unknown): PropertyDescriptor {
  const out: PropertyDescriptor = { ...d };
  if ('value' in d) out.value = toHost(d.value);
  if (d.get !== undefined) out.get = toHost(d.get) as () => unknown;
  if (d.set !== undefined) out.set = toHost(d.set) as (v: unknown) => void;
  return out;
}
