// Calls on a proxy that an apartment exports on (marshal/endpoint.ts): an object of one runtime
// handed to another through the main apartment, which passes each call on to the object. Such a
// call takes no turn where it is passed on: the object's own apartment admits it by the object's
// class's rules, and a turn here would make a caller's calls wait for one another's round trips
// (and a call the class interleaves wait behind a hanging one). Owner apartment only.
import { callOptions } from '../marshal/call-options.js';
import { invokeMember } from '../marshal/stub.js';
import { remoteStateOf } from '../marshal/proxy.js';
import type { RemoteState } from '../marshal/remote-state.js';
import type { ServedCall } from './served-call.js';

/** Where a call on `target` is passed on to when `target` stands for an object elsewhere; undefined when it runs here. */
export function forwardedTo(target: object): RemoteState | undefined {
  return remoteStateOf(target);
}

/**
 * Invoke `method` on `target`, or pass the call on to `remote` (what forwardedTo said of `target`,
 * read once per call): the call it makes ends with the one `served`, so a cancel, or the caller's
 * deadline passing (the caller cancels then), or the caller being gone, reaches the object too. It
 * has no deadline of its own: this apartment's default would cut short a caller that gave more.
 */
export function invokeOrForward(target: object, remote: RemoteState | undefined, method: string | number, args: unknown[], served: ServedCall): unknown {
  if (remote === undefined) return invokeMember(target, method, args);
  return remote.host.callRemote(remote, method, [...args, callOptions({ signal: served.signal, timeoutMs: Infinity })]);
}
