// Calls from one caller start in the order they were sent. A call whose arguments take a while to
// rebuild here (a free-threaded view whose class must load first) would otherwise be overtaken by
// the calls its caller sent after it, whose arguments rebuild at once. So while a call of a
// channel is being rebuilt, it and the channel's later calls wait here in arrival order, each
// already found, checked and decoded as it arrived (so a Release sent after a call cannot pull its
// target away), and are admitted from the head as their rebuilds finish. Control calls never wait
// here. Owner apartment only.
import type { Channel } from '../marshal/channel.js';
import { describeThrown } from '../marshal/error-codec.js';
import type { IncomingCall } from '../marshal/incoming-call.js';

/** A call found and checked, its arguments rebuilt or being rebuilt, waiting for its turn in its channel's order. */
interface OrderedCall {
  readonly call: IncomingCall;
  readonly target: object;
  /** The rebuilt arguments; undefined while they are being rebuilt (or when the rebuild failed). */
  args: unknown[] | undefined;
  /** Why the rebuild failed, once it did. */
  failed: { error: unknown } | undefined;
  /** Cancelled, or its caller is gone: it never starts. */
  dropped: boolean;
}

/** The calls waiting behind rebuilds, one queue per channel that has one under way. */
export class RebuildQueue {
  private readonly queues = new Map<Channel, OrderedCall[]>();
  private count = 0;

  constructor(
    /** Admit a call whose turn in its caller's order came (Dispatcher.admitCall). */
    private readonly admit: (call: IncomingCall, target: object, args: unknown[]) => void,
    private readonly warn: (message: string, causality: number) => void,
  ) {}

  /** Calls waiting now, over every channel (they count as queued calls). */
  get held(): number {
    return this.count;
  }

  /** Whether a call of `channel` must wait behind the ones before it. */
  busy(channel: Channel): boolean {
    // Hot path: one size check when nothing is being rebuilt.
    return this.queues.size > 0 && this.queues.has(channel);
  }

  /** Wait in the order of `call`'s channel; admitted once its arguments and every call before it are rebuilt. */
  enqueue(call: IncomingCall, target: object, decoded: unknown[] | Promise<unknown[]>): void {
    const entry: OrderedCall = { call, target, args: decoded instanceof Promise ? undefined : decoded, failed: undefined, dropped: false };
    const queue = this.queues.get(call.channel);
    if (queue) queue.push(entry);
    else this.queues.set(call.channel, [entry]);
    this.count++;
    if (!(decoded instanceof Promise)) return;
    const rebuilt = (): void => {
      // Dropped meanwhile (cancelled, or its caller is gone): give back what its arguments brought.
      if (entry.dropped) call.host.releaseArrivals(call.refs);
      else this.admitReady(call.channel);
    };
    decoded.then((args) => {
      entry.args = args;
      rebuilt();
    }, (error: unknown) => {
      entry.failed = { error };
      rebuilt();
    });
  }

  /** Call `callId` was cancelled: true when it waited here (it never starts, and what it brought is given back). */
  cancel(channel: Channel, callId: number): boolean {
    const queue = this.queues.get(channel);
    const i = queue ? queue.findIndex((e) => e.call.callId === callId) : -1;
    if (i < 0) return false;
    this.dropAll(this.take(channel, queue!, i, 1));
    // It may have been the head: the calls behind it go on if they are ready.
    this.admitReady(channel);
    return true;
  }

  /** The caller behind `channel` is gone: none of its waiting calls starts. */
  drop(channel: Channel): void {
    const queue = this.queues.get(channel);
    if (queue) this.dropAll(this.take(channel, queue, 0, queue.length));
  }

  private dropAll(entries: OrderedCall[]): void {
    for (const entry of entries) {
      entry.dropped = true;
      // One still being rebuilt gives back what it brought when its rebuild ends; a rebuilt or failed one, now.
      if (entry.args !== undefined || entry.failed !== undefined) entry.call.host.releaseArrivals(entry.call.refs);
    }
  }

  /**
   * Admit the calls at the head of `channel`'s queue whose rebuilds are over, in order, one at a
   * time and with the queue still in place: admitting one runs its method, whose answer can
   * dispatch a call pipelined on it, and that call must find the channel busy and wait its turn.
   */
  private admitReady(channel: Channel): void {
    const queue = this.queues.get(channel);
    if (!queue) return;
    while (this.queues.get(channel) === queue && queue.length > 0 && (queue[0]!.args !== undefined || queue[0]!.failed !== undefined)) {
      const next = queue.shift()!;
      this.count--;
      try {
        if (next.failed) next.call.withdraw(next.failed.error);
        else this.admit(next.call, next.target, next.args!);
      } catch (err) {
        // In a promise callback, outside the channel's receive loop: a throw must fail the call, not the apartment.
        this.warn(`[dispatch] call '${String(next.call.method)}' failed before it ran: ${describeThrown(err)}`, next.call.causality);
        next.call.fail(err);
      }
    }
    if (queue.length === 0 && this.queues.get(channel) === queue) this.queues.delete(channel);
  }

  private take(channel: Channel, queue: OrderedCall[], from: number, n: number): OrderedCall[] {
    const taken = queue.splice(from, n);
    this.count -= taken.length;
    if (queue.length === 0) this.queues.delete(channel);
    return taken;
  }
}
