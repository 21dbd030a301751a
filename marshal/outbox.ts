// What one channel has queued to send: everything queued in one turn leaves as one transport send
// (a batch), or sooner once the batch is full or the channel has handled an incoming batch and
// nothing else of the turn waits to be sent (sendEarly). A batch that fails to clone is sent
// message by message so only the messages that cannot go fail. Owner apartment only.
import type { Batch, Message } from './protocol.js';
import type { Transferable, Transport } from './transport.js';
import { aloneAtTurnEnd, atTurnEnd } from './turn-end.js';

/**
 * A batch is sent as soon as it holds this many messages, without waiting for the end of the
 * turn, so the peer starts on the first calls while this side is still producing the rest (one
 * giant batch per turn makes the two threads take turns instead of overlapping).
 */
const MAX_BATCH = 32;

/** Messages queued for one peer, with what each one moves. */
export class Outbox {
  private messages: Message[] = [];
  private transfers: (Transferable[] | undefined)[] | undefined;
  private flushQueued = false;
  private lazyFlushQueued = false;
  private transport: Transport | undefined;

  /** `undeliverable` is told of each message that could not be sent, with why. */
  constructor(private readonly undeliverable: (msg: Message, err: unknown) => void) {}

  get size(): number {
    return this.messages.length;
  }

  /** Send through `transport` from now on (what was queued goes at the next flush). */
  attach(transport: Transport): void {
    this.transport = transport;
  }

  /** Take everything queued, leaving the outbox empty (to queue it again, message by message). */
  drain(): { messages: Message[]; transfers: (Transferable[] | undefined)[] | undefined } {
    const taken = { messages: this.messages, transfers: this.transfers };
    this.messages = [];
    this.transfers = undefined;
    return taken;
  }

  /** Fail each queued message `refusal` gives a reason for (told to `undeliverable`); the rest stay queued, in order. */
  refuse(refusal: (msg: Message, transfer: Transferable[] | undefined) => unknown): void {
    const { messages, transfers } = this.drain();
    messages.forEach((msg, i) => {
      const why = refusal(msg, transfers?.[i]);
      if (why) this.undeliverable(msg, why);
      else this.queue(msg, transfers?.[i]);
    });
  }

  queue(msg: Message, transfer: Transferable[] | undefined = undefined): void {
    if (transfer && transfer.length > 0) (this.transfers ??= [])[this.messages.length] = transfer;
    this.messages.push(msg);
    if (this.messages.length >= MAX_BATCH && this.transport) {
      this.flush();
      return;
    }
    if (!this.flushQueued && this.transport) {
      this.flushQueued = true;
      atTurnEnd(this.flush);
    }
  }

  /**
   * Queue a message that may wait: it goes out with the next batch this side sends anyway, or at
   * the latest once this turn's pending I/O has run (setImmediate), never in a send of its own
   * while other traffic follows. For bookkeeping the peer needs soon but not at once (ReleaseAnswer),
   * so a pipelined pair costs one message each way and not a third one for its bookkeeping.
   */
  queueLazily(msg: Message): void {
    this.messages.push(msg);
    if (this.messages.length >= MAX_BATCH && this.transport) {
      this.flush();
      return;
    }
    if (!this.flushQueued && !this.lazyFlushQueued && this.transport) {
      this.lazyFlushQueued = true;
      setImmediate(this.lazyFlush);
    }
  }

  /**
   * Send what this turn queued now, before the turn's microtasks run, if this outbox's flush is the
   * only end-of-turn work asked for so far: nothing another link was given this turn is overtaken.
   * The channel calls it once it has handled an incoming batch, so the replies of calls served
   * synchronously leave at once instead of after the turn's microtasks and the hop to its end.
   */
  sendEarly(): void {
    if (this.flushQueued && aloneAtTurnEnd(this.flush)) this.flush();
  }

  private readonly lazyFlush = (): void => {
    this.lazyFlushQueued = false;
    if (!this.flushQueued) this.flush();
  };

  readonly flush = (): void => {
    this.flushQueued = false;
    if (!this.transport || this.messages.length === 0) return;
    const { messages: batch, transfers } = this.drain();
    try {
      this.transport.send(batch, transfers ? joined(transfers) : undefined);
    } catch (err) {
      this.resendOneByOne(batch, transfers, err);
    }
  };

  /** A batch failed to clone: send its messages one by one and fail only the ones that cannot go. */
  private resendOneByOne(batch: Batch, transfers: (Transferable[] | undefined)[] | undefined, batchError: unknown): void {
    for (let i = 0; i < batch.length; i++) {
      const msg = batch[i]!;
      try {
        this.transport!.send([msg], transfers?.[i]);
      } catch (err) {
        this.undeliverable(msg, err ?? batchError);
      }
    }
  }
}

/** The lists of a batch's messages as one list (flat() on the sparse array cost ≈ 0.25 µs a batch); a single list as it is. */
function joined(transfers: (Transferable[] | undefined)[]): Transferable[] {
  let all: Transferable[] | undefined;
  let copied = false;
  for (let i = 0; i < transfers.length; i++) {
    const list = transfers[i];
    if (!list) continue;
    if (!all) {
      all = list;
      continue;
    }
    if (!copied) {
      all = all.slice();
      copied = true;
    }
    for (let j = 0; j < list.length; j++) all.push(list[j]!);
  }
  return all ?? [];
}
