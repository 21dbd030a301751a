// Promise pipelining, the caller's side: `pipeline(proxy).method(…)` returns the call's promise
// with the callee object's methods on it. Calling one sends the next call at once, naming the first
// call's answer as its target (PipelineCall), so a chain of calls into one apartment costs one round
// trip instead of one per call. Once an answer has arrived (and the callee was told to forget it),
// later calls on the pipelined promise go to the arrived proxy as ordinary calls.
import { InvalidArgumentError, NoInterfaceError } from './errors.js';
import type { CallOptions } from './call-options.js';
import { remoteStateOf } from './proxy.js';
import type { PipelinedCall, ProxyHost } from './remote-state.js';

type AnyFunction = (...args: never[]) => unknown;

/** The pipelinable methods of `T`: each starts a call at once and returns a pipelined promise. */
export type Pipelined<T> = {
  readonly [K in keyof T as T[K] extends AnyFunction ? K : never]: T[K] extends (...args: infer A) => infer R
    ? (...args: A | [...A, CallOptions]) => PipelinedPromise<Awaited<R>>
    : never;
};

/** A call's result, and the methods of the object it will be: calls on them are pipelined. */
export type PipelinedPromise<R> = Promise<R> & ([R] extends [never] ? unknown : Pipelined<R>);

type Starter = (method: string, args: unknown[]) => PipelinedCall;

/**
 * Pipeline calls on `proxy`, a proxy to an object in another apartment:
 * `await pipeline(factory).makeChild().value()` sends both calls before either answers.
 * Errors of a call reject the calls pipelined on it with the same error.
 */
export function pipeline<P extends object>(proxy: P): Pipelined<P> {
  const state = remoteStateOf(proxy);
  if (!state) {
    throw new InvalidArgumentError('[pipeline] pipeline() takes a proxy to an object in another apartment; call a local object directly', { parameter: 'proxy' });
  }
  // One view per proxy, made on first use: `pipeline(factory)` is typically written at every call.
  return (state.pipelined ??= methods(state.host, state.apartment, (method, args) => {
    // A released or disconnected proxy fails the way an ordinary call on it would.
    if (state.released || state.disconnected) return { id: 0, result: state.host.callRemote(state, method, args), open: false };
    return state.host.pipelineRemote(state.apartment, state.oid, 0, method, args);
  })) as Pipelined<P>;
}

/**
 * The traps of the pipelined promise of one call, made on `host` towards apartment `peer`: its
 * promise's `then`, `catch` and `finally`, and a method for every other name that starts a call
 * pipelined on its answer. One handler object per call and no closures until a member is read:
 * this runs on every pipelined call, whose whole point is speed.
 */
class AnswerHandler implements ProxyHandler<object> {
  private made: Map<string, (...args: unknown[]) => object> | undefined;

  constructor(private readonly host: ProxyHost, private readonly peer: number, private readonly call: PipelinedCall) {}

  get(_target: object, prop: string | symbol): unknown {
    const result = this.call.result;
    if (prop === 'then') return result.then.bind(result);
    if (prop === 'catch') return result.catch.bind(result);
    if (prop === 'finally') return result.finally.bind(result);
    if (typeof prop !== 'string') return undefined;
    this.made ??= new Map();
    return methodOf(this.made, prop, this);
  }

  /** Start call `method` on this call's answer: pipelined while the callee keeps it, else on the arrived value. */
  start(method: string, args: unknown[]): PipelinedCall {
    const call = this.call;
    if (call.open) return this.host.pipelineRemote(this.peer, 0, call.id, method, args);
    return { id: 0, result: call.result.then((value) => callArrived(value, method, args)), open: false };
  }

  answer(call: PipelinedCall): object {
    return answer(this.host, this.peer, call);
  }
}

/** The pipelined promise of `call`, made on `host` towards apartment `peer`. */
function answer(host: ProxyHost, peer: number, call: PipelinedCall): object {
  return new Proxy(Object.create(null) as object, new AnswerHandler(host, peer, call));
}

function callArrived(value: unknown, method: string, args: unknown[]): Promise<unknown> {
  const fn = value !== null && (typeof value === 'object' || typeof value === 'function') ? (value as Record<string, unknown>)[method] : undefined;
  if (typeof fn !== 'function') {
    return Promise.reject(new NoInterfaceError(`[pipeline] the result has no method '${method}' to call; check what the first call returns`));
  }
  return Promise.resolve((fn as (...a: unknown[]) => unknown).apply(value, args));
}

/** What a method of a pipelined view or promise needs: how to start its call, and how to wrap the call's answer. */
interface CallStarter {
  start(method: string, args: unknown[]): PipelinedCall;
  answer(call: PipelinedCall): object;
}

/** The function for method `prop` (cached in `made`): it starts a call and returns its pipelined promise. */
function methodOf(made: Map<string, (...args: unknown[]) => object>, prop: string, starter: CallStarter): (...args: unknown[]) => object {
  let fn = made.get(prop);
  if (!fn) {
    fn = (...args: unknown[]) => starter.answer(starter.start(prop, args));
    made.set(prop, fn);
  }
  return fn;
}

/** An object whose every string member is a method that starts a call (on the proxy's object) and returns its pipelined promise. */
function methods(host: ProxyHost, peer: number, start: Starter): object {
  const made = new Map<string, (...args: unknown[]) => object>();
  const starter: CallStarter = { start, answer: (call) => answer(host, peer, call) };
  return new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      return methodOf(made, prop, starter);
    },
  });
}
