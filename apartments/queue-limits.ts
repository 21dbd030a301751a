// How many calls may wait in an apartment before new ones are refused with retry-later: on one
// object, in the whole apartment, and from one caller. The caller's share keeps a quarter of the
// apartment's queue for everyone else by default, so one caller (a plugin flooding a shared
// apartment) cannot take all of it and have every other caller's calls refused. A caller is the
// channel a call came on. Owner apartment only.
import type { Channel } from '../marshal/channel.js';
import { CallRejectedError } from '../marshal/errors.js';
import type { Admission } from './admission.js';
import type { ArrivalQueue } from './arrival-queue.js';
import type { CallLimits } from './call-limits.js';
import { methodName } from '../marshal/stub.js';

/** The queue limits of one apartment, and the counts they are checked against. */
export class QueueLimits {
  /** Calls of each caller waiting for their object's turn (arrivals are counted by the arrival queue). */
  private readonly waitingFrom = new Map<Channel, number>();
  private refusedCount = 0;

  constructor(
    private readonly limits: CallLimits,
    private readonly admission: Admission,
    private readonly arrivals: ArrivalQueue,
    private readonly label: string,
    /** How a refusal names the class of the object a call waits for. */
    private readonly classNameOf: (target: object) => string,
  ) {}

  /** Calls refused so far because a queue they would join was full. */
  get refused(): number {
    return this.refusedCount;
  }

  /** Calls waiting here: for their turn, or in their caller's order before it (arrival-queue.ts). */
  queuedInApartment(): number {
    return this.admission.queuedCalls + this.arrivals.held;
  }

  /** The refusal of a call of `channel` to `method` that would wait for its turn on `target`, or undefined if it may. */
  refusalOnObject(channel: Channel, target: object, method: string): CallRejectedError | undefined {
    const onObject = this.admission.queuedOn(target);
    if (onObject >= this.limits.maxQueuedPerObject) return this.refusal(method, `${onObject} calls already wait for ${this.classNameOf(target)} (callLimits.maxQueuedPerObject)`);
    return this.refusalInApartment(channel, target, method);
  }

  /**
   * The refusal of a call of `channel` to `method` of `target` that would wait anywhere in the
   * apartment, or undefined if it may. The method's name is looked up only for a refusal.
   */
  refusalInApartment(channel: Channel, target: object, method: string | number): CallRejectedError | undefined {
    const queued = this.queuedInApartment();
    if (queued >= this.limits.maxQueuedPerApartment) return this.refusal(methodName(target, method), `${queued} calls already wait in it (callLimits.maxQueuedPerApartment)`);
    const fromCaller = (this.waitingFrom.get(channel) ?? 0) + this.arrivals.heldFrom(channel);
    if (fromCaller >= this.limits.maxQueuedPerCaller) return this.refusal(methodName(target, method), `${fromCaller} calls of this caller already wait in it (callLimits.maxQueuedPerCaller; the rest of the queue is kept for other callers)`);
    return undefined;
  }

  /** A call of `channel` starts waiting for its turn. */
  waits(channel: Channel): void {
    this.waitingFrom.set(channel, (this.waitingFrom.get(channel) ?? 0) + 1);
  }

  /** A call of `channel` stopped waiting for its turn: it started, was refused or cancelled. */
  waited(channel: Channel): void {
    const n = (this.waitingFrom.get(channel) ?? 0) - 1;
    if (n > 0) this.waitingFrom.set(channel, n);
    else this.waitingFrom.delete(channel);
  }

  /** The caller behind `channel` is gone: none of its calls waits any more. */
  callerGone(channel: Channel): void {
    this.waitingFrom.delete(channel);
  }

  private refusal(method: string, limit: string): CallRejectedError {
    this.refusedCount++;
    return new CallRejectedError(`[queue-full] ${this.label} refused call '${method}': ${limit}; retry later (callOptions({ retry })) or send fewer calls at once`, { code: 'RPC_E_SERVERCALL_RETRYLATER' });
  }
}
