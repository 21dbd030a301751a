// Holds the calls that arrive at a worker apartment while an attach hook is still running there,
// so a module's `attach` — also one replayed in an apartment that already serves objects — runs
// before any call it could serve. Held calls are dispatched in arrival order once every pending
// attach has finished. Exempt: the runtime's control calls, and calls of a chain already running
// here (a callback the attach itself caused), which would otherwise wait for the attach that waits
// for them. A held call that its caller cancels is dropped. Owner apartment only.
import type { Channel } from '../marshal/channel.js';
import type { CallDispatcher, CallHost, IncomingCall } from '../marshal/incoming-call.js';
import { CONTROL_OID, type NotifyMessage } from '../marshal/protocol.js';
import type { HookRunner } from './apartment-hooks.js';
import { acknowledgeCancel } from './dispatcher.js';

/** A CallDispatcher in front of the apartment's dispatcher that waits for pending attach hooks. */
export class HookGate implements CallDispatcher {
  private readonly held: IncomingCall[] = [];

  constructor(
    private readonly inner: CallDispatcher,
    private readonly hooks: HookRunner,
    /** Whether calls of chain `causality` are running here now. */
    private readonly chainRunning: (causality: number) => boolean,
  ) {}

  dispatch(call: IncomingCall): void {
    // Hot path: one property read when no attach is pending and nothing is held.
    if ((this.held.length > 0 || this.hooks.attaching) && call.message[2] !== CONTROL_OID && !this.chainRunning(call.message[6])) {
      if (this.held.push(call) === 1) void this.hooks.ready.then(() => this.release());
      return;
    }
    this.inner.dispatch(call);
  }

  notify(host: CallHost, channel: Channel, msg: NotifyMessage): void {
    this.inner.notify(host, channel, msg);
  }

  cancel(host: CallHost, channel: Channel, callId: number): void {
    const i = this.held.findIndex((h) => h.channel === channel && h.callId === callId);
    if (i < 0) {
      this.inner.cancel(host, channel, callId);
      return;
    }
    // The caller has already seen CallCanceledError: the call never starts; give back what it carried.
    const [dropped] = this.held.splice(i, 1);
    host.discardIncoming(channel, dropped!.refs);
    acknowledgeCancel(host, channel, callId, 'queued');
  }

  callerGone(host: CallHost, channel: Channel): void {
    // Held calls of a caller that is gone never start; give back what they carried.
    for (let i = this.held.length - 1; i >= 0; i--) {
      const call = this.held[i]!;
      if (call.channel !== channel) continue;
      this.held.splice(i, 1);
      host.discardIncoming(channel, call.refs);
    }
    this.inner.callerGone(host, channel);
  }

  private release(): void {
    // Another module registered while these waited: wait for its attach too.
    if (this.hooks.attaching) {
      void this.hooks.ready.then(() => this.release());
      return;
    }
    // A held call whose caller went away was dropped by callerGone.
    for (const call of this.held.splice(0)) this.inner.dispatch(call);
  }
}
