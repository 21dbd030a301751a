// The producing side of a stream that crossed apartments: an exported object that reads the
// user's async iterator in batches when the consumer pulls. It reads only when asked, at most the
// requested count (≤ the window) or byte budget, so the producer never runs further ahead than the
// consumer allows. A batch also ends when the next item is not ready within the current turn of the
// loop, so a slow producer's items are not held back waiting for company. Its helpers are #private so
// a peer reaches only next() and return(). Owner apartment only.
import { Readable } from 'node:stream';
import { ON_UNREFERENCED, byRef, transfer } from './by-ref.js';
import { CallCanceledError, InvalidArgumentError, shownValue } from './errors.js';
import { itemBytes, type StreamLimits } from './stream-options.js';
import { isWebReadable, readerIterator } from './web-streams.js';

/** One pull's answer: the items read, and whether the producer has finished. */
export interface StreamBatch {
  items: unknown[];
  done: boolean;
}

const NOT_YET = Symbol('not-yet');
const STOPPED = Symbol('stopped');

/** Reads a local async iterable for a consumer in another apartment. Travels by reference. */
export class StreamSource {
  // The consumer's stop must not queue behind a pull waiting for the producer's next item (the
  // object serves one call chain at a time): `break` would take the pull's whole deadline.
  static interleave = ['return'];
  private iterator: AsyncIterator<unknown> | undefined;
  /** A read started for the previous batch that was not ready in time; the next batch starts with it. */
  private ahead: Promise<IteratorResult<unknown>> | undefined;
  /** An error the producer threw after some items of a batch: the next pull reports it. */
  private failure: { error: unknown } | undefined;
  private finished = false;
  /** Whether the iterable was asked for its iterator (a pull, or a close before any pull). */
  private opened = false;
  /** Pulls run one after another, whatever a peer sends. */
  private chain: Promise<unknown> = Promise.resolve();
  /**
   * Stops listening to the producer's signal: a long-lived signal must not keep ended sources alive.
   * #private: an own function-valued field is callable by name, and a consumer must not unhook the producer's stop.
   */
  #unlisten: (() => void) | undefined;
  /**
   * Ends the wait of a pull for its first item when the stream stops (the producer's signal, the
   * consumer's return() or release): a quiet producer would hold the pull until its deadline.
   * One per pull, not one promise raced by every pull, which would gather a reaction per batch.
   */
  #wake: (() => void) | undefined;

  constructor(private readonly iterable: AsyncIterable<unknown>, readonly limits: StreamLimits, signal: AbortSignal | undefined) {
    byRef(this);
    if (signal) {
      const stop = (): void => {
        this.failure = { error: new CallCanceledError('[stream-canceled] the producer cancelled this stream; no more items will come', { cause: signal.reason }) };
        this.#close();
      };
      if (signal.aborted) stop();
      else {
        signal.addEventListener('abort', stop, { once: true });
        this.#unlisten = () => signal.removeEventListener('abort', stop);
      }
    }
  }

  /** Read up to `count` items (and about `maxBytes`); called by the consumer's apartment. */
  next(count: unknown, maxBytes: unknown): Promise<StreamBatch> {
    if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > this.limits.window) {
      return Promise.reject(new InvalidArgumentError(`[stream] a pull asks for 1 to ${this.limits.window} items; got ${shownValue(count)}`, { parameter: 'count' }));
    }
    const budget = typeof maxBytes === 'number' && maxBytes >= 1 ? Math.min(maxBytes, this.limits.maxBytes) : this.limits.maxBytes;
    const result = this.chain.then(() => this.#read(count as number, budget));
    this.chain = result.catch(() => undefined);
    return result;
  }

  /** The consumer stopped (break, return(), cancel): close the producer's iterator. */
  return(): void {
    this.#close();
  }

  [ON_UNREFERENCED](): void {
    this.#close();
  }

  async #read(count: number, maxBytes: number): Promise<StreamBatch> {
    if (this.failure) this.#reportFailure();
    if (this.finished) return { items: [], done: true };
    if (!this.opened) {
      this.opened = true;
      this.iterator = this.#open();
    }
    if (!this.iterator) return { items: [], done: true };
    const items: unknown[] = [];
    let bytes = 0;
    let turnOver: Promise<typeof NOT_YET> | undefined;
    const iterator = this.iterator;
    while (items.length < count && bytes < maxBytes && !this.finished) {
      const pending = this.ahead ?? iterator.next();
      this.ahead = undefined;
      let r: IteratorResult<unknown> | typeof NOT_YET | typeof STOPPED;
      try {
        // The first item is waited for (until the stream stops); later ones only while this turn lasts.
        r = items.length === 0
          ? await Promise.race([pending, new Promise<typeof STOPPED>((resolve) => (this.#wake = () => resolve(STOPPED)))])
          : await Promise.race([pending, (turnOver ??= new Promise((resolve) => setImmediate(resolve, NOT_YET)))]);
      } catch (error) {
        this.finished = true;
        if (items.length === 0) throw error;
        this.failure = { error };
        break;
      } finally {
        this.#wake = undefined;
      }
      if (r === STOPPED) {
        // Stopped while waiting: the pull answers with the producer's cancel, or the end to a consumer that left.
        if (this.failure) this.#reportFailure();
        break;
      }
      if (r === NOT_YET) {
        this.ahead = pending;
        break;
      }
      if (r.done) {
        this.finished = true;
        break;
      }
      items.push(r.value);
      bytes += itemBytes(r.value);
    }
    const batch: StreamBatch = { items, done: this.finished && !this.failure };
    if (this.finished && !this.failure) {
      this.iterator = undefined;
      this.#unlisten?.();
    }
    return this.limits.transfer ? transfer(batch, buffersOf(items)) : batch;
  }

  /** Report the error the stream ended with (once): the stream is then over. */
  #reportFailure(): never {
    const { error } = this.failure!;
    this.failure = undefined;
    this.finished = true;
    throw error;
  }

  #close(): void {
    // Released before any pull: a generator handed over mid-way is still closed (its finally runs).
    if (!this.opened) {
      this.opened = true;
      this.iterator = this.#open();
    }
    this.finished = true;
    this.#unlisten?.();
    const it = this.iterator;
    this.iterator = undefined;
    this.ahead = undefined;
    this.#wake?.();
    // Closing runs the producer's finally blocks; what they throw has nobody left to hear it.
    if (it?.return) void Promise.resolve().then(() => it.return!()).catch(() => undefined);
    // A Node Readable's iterator destroys it on return(), but only once a read waiting for the next
    // chunk gets one, which from a quiet source (a socket with nothing more to say) may be never.
    if (it && this.iterable instanceof Readable) this.iterable.destroy();
  }

  /**
   * The producer's iterator. A web stream is read through its reader, whose cancel() ends a read
   * waiting for the next chunk; its async iterator's return() waits for that read to get one first.
   */
  #open(): AsyncIterator<unknown> {
    return isWebReadable(this.iterable) ? readerIterator(this.iterable) : this.iterable[Symbol.asyncIterator]();
  }
}

function buffersOf(items: unknown[]): ArrayBuffer[] {
  const list = new Set<ArrayBuffer>();
  for (const item of items) {
    if (item instanceof ArrayBuffer) list.add(item);
    else if (ArrayBuffer.isView(item) && item.buffer instanceof ArrayBuffer) list.add(item.buffer);
  }
  return [...list];
}
