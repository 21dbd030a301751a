// Which apartment calls a script engine. currentCall() names the caller of the call this apartment
// is serving, and that is the engine's caller only when the call was dispatched to the engine
// itself: code of the engine's own apartment that uses a local engine while it serves some other
// call (an object setting its engine's site when apartment X calls it) is this apartment calling,
// not X. Every call another apartment makes to an engine goes through its stub table, so the table
// marks the engine it dispatches to for the synchronous start of the method, where each method
// reads who calls (before its first await).
import { currentApartment, currentCall } from '../../apartments/context.js';
import type { RemoteInterface } from '../../marshal/interface-manifest.js';

/** The engine a stub invoker is dispatching to right now (synchronously), if any. */
let dispatching: object | undefined;

/** `remote` with each invoker marking the engine it dispatches to while it runs. */
export function dispatchedThrough<T extends object>(remote: RemoteInterface<T>): RemoteInterface<T> {
  const stub = remote.stub.map((invoke) => (target: T, args: unknown[]): unknown => {
    const outer = dispatching;
    dispatching = target;
    try {
      return invoke(target, args);
    } finally {
      dispatching = outer;
    }
  });
  return { manifest: remote.manifest, stub };
}

/** The apartment calling `engine`: the caller of a call dispatched to it, else this apartment. */
export function callerOf(engine: object): number {
  const call = currentCall();
  return call !== undefined && dispatching === engine ? call.callerApartment : currentApartment().id;
}
