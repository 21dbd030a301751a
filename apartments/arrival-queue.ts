// Calls from one caller start in the order they were sent, and a worker apartment starts no user
// call while an attach hook is running there (apartment-hooks.ts). A call that cannot be admitted
// yet — its arguments take a while to rebuild here (a free-threaded view whose class must load
// first), or an attach is running — would otherwise be overtaken by the calls its caller sent
// after it, or would have to wait before it is even found. So it and the channel's later calls
// wait here in arrival order, each already found, checked and decoded as it arrived (so a Release
// sent after a call cannot pull its target away: the entry holds the target), and are admitted
// from the head once their rebuilds are over and no attach holds them. Not held by an attach: the
// calls of a chain already running here (a callback the attach itself caused), which would
// otherwise wait for the attach that waits for them; they pass the held calls before them.
// Control calls never wait here. Owner apartment only.
import type { Channel } from '../marshal/channel.js';
import { describeThrown } from '../marshal/error-codec.js';
import type { IncomingCall } from '../marshal/incoming-call.js';

/** The attach hooks of an apartment, as the calls that wait for them see them (HookRunner). */
export interface PendingAttach {
  /** Whether an attach registered here has not finished yet. */
  readonly attaching: boolean;
  /** Settles once every attach registered so far has run. */
  readonly ready: Promise<void>;
}

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

/** The calls waiting to be admitted in their callers' order, one queue per channel that has some. */
export class ArrivalQueue {
  private readonly queues = new Map<Channel, OrderedCall[]>();
  private count = 0;
  /** Whether the queue waits on `attach.ready` already. */
  private awaitingAttach = false;

  constructor(
    /** Admit a call whose turn in its caller's order came (Dispatcher.admitCall). */
    private readonly admit: (call: IncomingCall, target: object, args: unknown[]) => void,
    private readonly warn: (message: string, causality: number) => void,
    /** The attach hooks user calls wait for; absent where calls wait for none (the main apartment). */
    private readonly attach: PendingAttach | undefined,
    /** Whether calls of chain `causality` are running here now. */
    private readonly chainRunning: (causality: number) => boolean,
  ) {}

  /** Calls waiting now, over every channel (they count as queued calls). */
  get held(): number {
    return this.count;
  }

  /** Calls of `channel`'s caller waiting now. */
  heldFrom(channel: Channel): number {
    return this.queues.get(channel)?.length ?? 0;
  }

  /** Whether a call of `channel` and chain `causality` must wait here: behind the ones before it, or for an attach. */
  mustWait(channel: Channel, causality: number): boolean {
    // Hot path: one size check and one property read when nothing waits and no attach runs.
    return (this.queues.size > 0 && this.queues.has(channel)) || this.heldByAttach(causality);
  }

  /** Wait in the order of `call`'s channel; admitted once its arguments and every call before it are ready. */
  enqueue(call: IncomingCall, target: object, decoded: unknown[] | Promise<unknown[]>): void {
    const entry: OrderedCall = { call, target, args: decoded instanceof Promise ? undefined : decoded, failed: undefined, dropped: false };
    const queue = this.queues.get(call.channel);
    if (queue) queue.push(entry);
    else this.queues.set(call.channel, [entry]);
    this.count++;
    if (!(decoded instanceof Promise)) {
      // Ready already: it goes now unless a call before it or an attach holds it.
      this.admitReady(call.channel);
      return;
    }
    const whenRebuilt = (): void => {
      // Dropped meanwhile (cancelled, or its caller is gone): give back what its arguments brought.
      if (entry.dropped) call.host.releaseArrivals(call.refs);
      else this.admitReady(call.channel);
    };
    decoded.then((args) => {
      entry.args = args;
      whenRebuilt();
    }, (error: unknown) => {
      entry.failed = { error };
      whenRebuilt();
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

  /** Whether an attach running here holds a call of chain `causality` (one not caused by that attach). */
  private heldByAttach(causality: number): boolean {
    return this.attach !== undefined && this.attach.attaching && !this.chainRunning(causality);
  }

  /**
   * Admit the ready calls of `channel`'s queue in order, one at a time and with the queue still in
   * place: admitting one runs its method, whose answer can dispatch a call pipelined on it, and
   * that call must find the channel busy and wait its turn. A call still being rebuilt stops the
   * calls behind it; one an attach holds stops only the calls the attach holds too (all but the
   * callbacks of chains running here), so those pass it.
   */
  private admitReady(channel: Channel): void {
    const queue = this.queues.get(channel);
    if (!queue) return;
    let i = 0;
    while (this.queues.get(channel) === queue && i < queue.length) {
      const next = queue[i]!;
      if (this.heldByAttach(next.call.causality)) {
        this.awaitAttach();
        i++;
        continue;
      }
      if (next.args === undefined && next.failed === undefined) break;
      queue.splice(i, 1);
      this.count--;
      try {
        if (next.failed) next.call.withdraw(next.failed.error);
        else this.admit(next.call, next.target, next.args!);
      } catch (err) {
        // In a promise callback, outside the channel's receive loop: a throw must fail the call, not the apartment.
        this.warn(`[dispatch] call '${String(next.call.method)}' failed before it ran: ${describeThrown(err)}`, next.call.causality);
        next.call.fail(err);
      }
      // Admitting it may have admitted or queued others: look again from the head.
      i = 0;
    }
    if (queue.length === 0 && this.queues.get(channel) === queue) this.queues.delete(channel);
  }

  /** Look at every queue again once the attaches running now have finished (once, however many calls they hold). */
  private awaitAttach(): void {
    if (this.awaitingAttach) return;
    this.awaitingAttach = true;
    void this.attach!.ready.then(() => {
      this.awaitingAttach = false;
      // Another module registered while these waited: its attach holds them too (admitReady waits again).
      for (const channel of [...this.queues.keys()]) this.admitReady(channel);
    });
  }

  private take(channel: Channel, queue: OrderedCall[], from: number, n: number): OrderedCall[] {
    const taken = queue.splice(from, n);
    this.count -= taken.length;
    if (queue.length === 0) this.queues.delete(channel);
    return taken;
  }
}
