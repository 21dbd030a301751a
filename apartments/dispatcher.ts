// Runs the calls that arrive at an apartment: find the target, rebuild the arguments, invoke the
// member through the stub, answer with the result or the error. Calls start on arrival (one
// thread: the apartment's); a Cancel aborts the signal a running call may be watching.
// Owner apartment only.
import { setCurrentCall, type CallInfo } from '../lib/context.js';
import { DisconnectedError } from '../lib/errors.js';
import type { Channel } from '../marshal/channel.js';
import type { CallDispatcher, Endpoint } from '../marshal/endpoint.js';
import { CONTROL_OID, type CallMessage } from '../marshal/protocol.js';
import { invokeMember } from '../marshal/stub.js';

/** A call being served; its abort controller is made only if the callee asks for the signal. */
class ServedCall implements CallInfo {
  private controller: AbortController | undefined;
  private canceled = false;
  constructor(readonly callerApartment: number, readonly causality: number) {}

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.canceled) this.controller.abort();
    return this.controller.signal;
  }

  cancel(): void {
    this.canceled = true;
    this.controller?.abort();
  }
}

/** Dispatches incoming calls to the objects an apartment exports (and its control object). */
export class Dispatcher implements CallDispatcher {
  private readonly running = new Map<Channel, Map<number, ServedCall>>();

  constructor(private readonly label: string) {}

  dispatch(endpoint: Endpoint, channel: Channel, msg: CallMessage): void {
    const callId = msg[1];
    const oid = msg[2];
    const target = oid === CONTROL_OID ? endpoint.control : endpoint.exports.get(oid)?.object;
    if (target === undefined) {
      endpoint.discardIncoming(channel, msg[5]);
      channel.replyError(callId, new DisconnectedError(`[object-gone] object ${oid} in ${this.label} no longer exists (it was released); obtain a new reference`, { code: 'CO_E_OBJNOTCONNECTED' }), endpoint.self);
      return;
    }
    let args: unknown[];
    try {
      args = endpoint.decodeArgs(channel, msg[4], msg[5]);
    } catch (err) {
      channel.replyError(callId, err, endpoint.self);
      return;
    }
    const served = new ServedCall(channel.peer, msg[6]);
    let result: unknown;
    setCurrentCall(served);
    try {
      result = invokeMember(target, msg[3], args);
    } catch (err) {
      channel.replyError(callId, err, endpoint.self);
      return;
    } finally {
      setCurrentCall(undefined);
    }
    if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof (result as PromiseLike<unknown>).then === 'function') {
      let calls = this.running.get(channel);
      if (!calls) this.running.set(channel, (calls = new Map()));
      calls.set(callId, served);
      (result as PromiseLike<unknown>).then(
        (value) => {
          calls.delete(callId);
          endpoint.respond(channel, callId, value);
        },
        (err: unknown) => {
          calls.delete(callId);
          channel.replyError(callId, err, endpoint.self);
        },
      );
    } else {
      endpoint.respond(channel, callId, result);
    }
  }

  cancel(channel: Channel, callId: number): void {
    this.running.get(channel)?.get(callId)?.cancel();
  }

  /** Forget the calls of a channel that closed. */
  forget(channel: Channel): void {
    this.running.delete(channel);
  }
}
