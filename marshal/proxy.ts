// Proxies: the caller-side stand-ins for objects in other apartments. One Proxy per imported
// object per apartment; its members are methods that return promises; `then` is undefined so a
// proxy is never mistaken for a promise; disposing it releases the reference.
import type { ByReferenceKey } from './by-ref.js';
import { CallOptions } from './call-options.js';
import { RefKind } from './protocol.js';
import { INDIRECT, REMOTE_STATE, type RemoteState } from './remote-state.js';

type AnyFunction = (...args: never[]) => unknown;

type IsAny<V> = 0 extends 1 & V ? true : false;

/**
 * A value as it arrives from another apartment: functions and objects typed as travelling by
 * reference (Ref<T>, subclasses of ByReference) arrive as proxies; everything else is a copy. Only
 * the value itself is mapped, not objects nested in a copied one.
 */
export type Marshaled<V> = IsAny<V> extends true ? V
  : V extends AnyFunction ? Remote<V>
    : V extends object ? (ByReferenceKey extends keyof V ? Remote<V> : V)
      : V;

/** What a caller may pass where a method takes `P`: the value, or a proxy of it when it travels by reference. */
export type RemoteArgument<P> = IsAny<P> extends true ? P
  : P extends AnyFunction ? P | Remote<P>
    : P extends object ? (ByReferenceKey extends keyof P ? P | Remote<P> : P)
      : P;

type RemoteArguments<A extends readonly unknown[]> = { [I in keyof A]: RemoteArgument<A[I]> };

/**
 * A method as seen through a proxy: its parameters (plus an optional CallOptions last) and a
 * promise of its result as it arrives (Marshaled).
 */
export type RemoteMethod<F> = F extends (...args: infer A) => infer R
  ? (...args: RemoteArguments<A> | [...RemoteArguments<A>, CallOptions]) => Promise<Marshaled<Awaited<R>>>
  : never;

/** The caller's view of an object that lives in another apartment. */
export type Remote<T> = (T extends AnyFunction ? RemoteMethod<T> : unknown) & {
  readonly [K in keyof T as T[K] extends AnyFunction ? K : never]: RemoteMethod<T[K]>;
} & Disposable & AsyncDisposable;

/** Proxy traps shared by shape; `this` is the per-proxy handler holding the state. */
class RemoteHandler implements ProxyHandler<object> {
  constructor(private readonly state: RemoteState) {}

  get(_target: object, prop: string | symbol): unknown {
    const state = this.state;
    if (typeof prop === 'symbol') {
      if (prop === REMOTE_STATE) return state;
      if (prop === Symbol.dispose) return () => state.host.releaseRemote(state);
      if (prop === Symbol.asyncDispose) return () => Promise.resolve(state.host.releaseRemote(state));
      return undefined;
    }
    if (prop === 'then') return undefined;
    const methods = (state.methods ??= new Map());
    let fn = methods.get(prop);
    if (!fn) {
      fn = (...args: unknown[]) => state.host.callRemote(state, prop, args);
      methods.set(prop, fn);
    }
    return fn;
  }

  apply(_target: object, _thisArg: unknown, args: unknown[]): unknown {
    return this.state.host.callRemote(this.state, '', args);
  }

  set(): boolean {
    throw new TypeError('[remote-set] properties of a remote object cannot be set; call a method that sets them');
  }

  defineProperty(): boolean {
    throw new TypeError('[remote-set] properties of a remote object cannot be defined; call a method instead');
  }

  deleteProperty(): boolean {
    return false;
  }

  has(_target: object, prop: string | symbol): boolean {
    return prop === REMOTE_STATE;
  }

  ownKeys(): (string | symbol)[] {
    return [];
  }

  getOwnPropertyDescriptor(): PropertyDescriptor | undefined {
    return undefined;
  }
}

function remoteFunctionTarget(): void {}

/**
 * Make the proxy for `state`; callables for function references, plain objects otherwise.
 * util.inspect() looks at a proxy's target, not through its traps, so the target carries the short
 * form console.log() prints.
 */
export function createProxy(state: RemoteState): object {
  const target: object = state.kind === RefKind.Function ? remoteFunctionTarget.bind(null) : {};
  Object.defineProperty(target, INSPECT, {
    configurable: true,
    value: () => `Remote { ${state.kind === RefKind.Function ? 'function' : 'object'} ${state.oid} in apartment ${state.apartment}${state.released ? ', released' : ''} }`,
  });
  return new Proxy(target, new RemoteHandler(state));
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** The marshal state behind a proxy, or undefined when `value` is not one of our proxies. */
export function remoteStateOf(value: unknown): RemoteState | undefined {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  return (value as { [REMOTE_STATE]?: RemoteState })[REMOTE_STATE];
}

/** Whether `value` stands for an object elsewhere (a proxy, or a free-pool handle) rather than being it. */
export function isProxy(value: unknown): boolean {
  if (remoteStateOf(value) !== undefined) return true;
  return value !== null && (typeof value === 'object' || typeof value === 'function') && (value as { [INDIRECT]?: boolean })[INDIRECT] === true;
}

/**
 * Release a proxy's reference now (COM's Release), or retire a free-pool handle. Later calls on it
 * fail with DisconnectedError. Idempotent; returns false when `value` is neither (a local object
 * needs no release).
 */
export function release(value: unknown): boolean {
  const state = remoteStateOf(value);
  if (state) {
    state.host.releaseRemote(state);
    return true;
  }
  if (!isProxy(value)) return false;
  (value as Disposable)[Symbol.dispose]();
  return true;
}

export { CallOptions };
