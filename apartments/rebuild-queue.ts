// Calls from one caller run in the order they were sent. A call whose arguments take a while to
// rebuild here (a free-threaded view whose class must load first) would otherwise be overtaken by
// the calls its caller sent after it, whose arguments rebuild at once. So while one call of a
// channel is being rebuilt, the channel's later calls wait here, in arrival order, and go on to
// the dispatcher when it is admitted. Control calls pass: they order nothing the caller can see.
// Owner apartment only.
import type { Channel } from '../marshal/channel.js';
import type { IncomingCall } from '../marshal/incoming-call.js';

/** One channel's call under rebuild and the calls held behind it. */
interface Rebuild {
  readonly call: IncomingCall;
  /** Its caller cancelled it while its arguments were rebuilt: it must not run. */
  canceled: boolean;
  readonly held: IncomingCall[];
}

/** The calls held behind a rebuild, by channel (at most one rebuild per channel at a time). */
export class RebuildQueue {
  private readonly rebuilds = new Map<Channel, Rebuild>();
  private heldCount = 0;

  /** Calls held now, over every channel (they count as queued calls). */
  get held(): number {
    return this.heldCount;
  }

  /** Whether `call` would be held: its channel has a rebuild under way. */
  holds(call: IncomingCall): boolean {
    // Hot path: one size check when nothing is being rebuilt.
    return this.rebuilds.size > 0 && this.rebuilds.has(call.channel);
  }

  /** Hold `call` behind its channel's rebuild (holds(call) said it would be held). */
  hold(call: IncomingCall): void {
    this.rebuilds.get(call.channel)!.held.push(call);
    this.heldCount++;
  }

  /** `call`'s arguments are being rebuilt: later calls of its channel wait until end(). */
  begin(call: IncomingCall): void {
    this.rebuilds.set(call.channel, { call, canceled: false, held: [] });
  }

  /**
   * `call`'s rebuild is over (done or failed): whether it was cancelled meanwhile, and the calls
   * held behind it, to dispatch in order. Nothing when its channel was dropped meanwhile.
   */
  end(call: IncomingCall): { canceled: boolean; held: IncomingCall[] } {
    const rebuild = this.rebuilds.get(call.channel);
    if (rebuild?.call !== call) return { canceled: true, held: [] };
    this.rebuilds.delete(call.channel);
    this.heldCount -= rebuild.held.length;
    return rebuild;
  }

  /**
   * The caller cancelled call `callId`: a held call is taken out and returned (it never starts),
   * a call under rebuild is marked so that it does not run ('rebuilding'); undefined when neither.
   */
  cancel(channel: Channel, callId: number): IncomingCall | 'rebuilding' | undefined {
    const rebuild = this.rebuilds.get(channel);
    if (rebuild === undefined) return undefined;
    if (rebuild.call.callId === callId) {
      rebuild.canceled = true;
      return 'rebuilding';
    }
    const i = rebuild.held.findIndex((c) => c.callId === callId);
    if (i < 0) return undefined;
    this.heldCount--;
    return rebuild.held.splice(i, 1)[0];
  }

  /** The caller behind `channel` is gone: forget its rebuild; the held calls are returned (none of them starts). */
  drop(channel: Channel): IncomingCall[] {
    const rebuild = this.rebuilds.get(channel);
    if (rebuild === undefined) return [];
    this.rebuilds.delete(channel);
    this.heldCount -= rebuild.held.length;
    return rebuild.held;
  }
}
