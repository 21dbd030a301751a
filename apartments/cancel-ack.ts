// The answer to a Cancel: the callee tells the caller whether the call it cancelled had started,
// as the `callState` of a CallCanceledError reply. Sent by the dispatcher that owned the call.
import type { Channel } from '../marshal/channel.js';
import { encodeError } from '../marshal/error-codec.js';
import { CallCanceledError } from '../marshal/errors.js';
import type { CallHost } from '../marshal/incoming-call.js';
import { Op } from '../marshal/protocol.js';

/** How a Cancel found its call, told back to the caller (as the `callState` of a CallCanceledError reply). */
export type CancelState = 'queued' | 'running' | 'unknown';

/**
 * Answer a Cancel: the caller of a call that timed out waits for this to say whether it had
 * started (a caller that cancelled itself has forgotten the call and ignores it).
 */
export function acknowledgeCancel(host: CallHost, channel: Channel, callId: number, state: CancelState): void {
  const ack = Object.assign(new CallCanceledError(`[canceled] the call was cancelled by its caller while ${state === 'queued' ? 'waiting for its turn' : state === 'running' ? 'running' : 'not known here'}`), { callState: state });
  channel.post([Op.Error, callId, encodeError(ack, host.self)]);
}
