// A call being served here, from its arrival until it settles: what currentCall() shows the
// callee, its place in the object's queue or the turn it holds, and its cancellation. Owner
// apartment only.
import type { CallInfo } from './context.js';
import type { QueuedTicket, Turn, Untracked } from './admission.js';
import type { WireRefs } from '../marshal/protocol.js';

/** A call being served (or waiting its turn); the abort controller is made only if asked for. */
export class ServedCall implements CallInfo {
  private controller: AbortController | undefined;
  private canceled = false;
  started = false;
  ticket: QueuedTicket | undefined;
  /** What a started call holds, until it settles. */
  turn: Turn | Untracked | undefined;
  method = '';
  /** Armed when the caller gave up on a running call: hands its turn on if it does not stop. */
  overrun: NodeJS.Timeout | undefined;
  /** Its turn was handed on while it still ran: settling it must not leave the turn again. */
  abandoned = false;
  constructor(readonly callerApartment: number, readonly causality: number, readonly refs: WireRefs, readonly inputSync: boolean) {}

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
