// The consuming side of a stream that crossed apartments: an async iterator that pulls batches from
// the producer's StreamSource (through its proxy) and keeps at most one window of items buffered or
// requested, asking for more once half of it has been read, so the next batch is usually on its way
// before the buffer runs dry. A producer error rejects the read after the items that came before
// it; return() (what `break` calls) tells the producer to stop; the proxy is released when the
// stream ends either way, and by the collector if the iterator is dropped. Owner apartment only.
import { callOptions, type CallOptions } from './call-options.js';
import { ProtocolError } from './errors.js';
import { release } from './proxy.js';
import type { StreamBatch } from './stream-source.js';
import { itemBytes, type StreamLimits } from './stream-options.js';

/** Empty batches in a row a producer may answer before it counts as broken (StreamSource answers at most one). */
const MAX_EMPTY_PULLS = 2;

/** What the iterator calls: a proxy to a StreamSource, or the source itself when it came home. */
export interface PullSource {
  next(count: number, maxBytes: number, options?: CallOptions): Promise<StreamBatch> | StreamBatch;
  return(): Promise<void> | void;
}

/** An async iterator over items produced in another apartment. Single use, like a generator. */
export class RemoteIterator<T = unknown> implements AsyncIterableIterator<T> {
  private buffer: T[] = [];
  private head = 0;
  private bufferedBytes = 0;
  private inflight: Promise<void> | undefined;
  private ended = false;
  private failure: { error: unknown } | undefined;
  private readonly pullOptions: CallOptions | undefined;
  /** Batches in a row that brought nothing and did not end the stream. */
  private emptyPulls = 0;

  constructor(private source: PullSource | undefined, private readonly limits: StreamLimits, private readonly label: string) {
    this.pullOptions = limits.pullTimeoutMs === undefined ? undefined : callOptions({ timeoutMs: limits.pullTimeoutMs });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.head < this.buffer.length) {
        const value = this.buffer[this.head]!;
        (this.buffer as unknown[])[this.head++] = undefined;
        this.bufferedBytes -= itemBytes(value);
        if (this.head === this.buffer.length) {
          this.buffer = [];
          this.head = 0;
        }
        this.prefetch();
        return { value, done: false };
      }
      if (this.failure) {
        const { error } = this.failure;
        this.failure = undefined;
        throw error;
      }
      if (this.ended) return { value: undefined, done: true };
      this.prefetch();
      await this.inflight;
    }
  }

  /** Stop reading: the producer is told to stop, and what was buffered is dropped. */
  async return(value?: unknown): Promise<IteratorResult<T>> {
    const source = this.source;
    this.source = undefined;
    this.ended = true;
    this.buffer = [];
    this.head = 0;
    this.failure = undefined;
    // The stop is not waited for: a producer whose thread is busy (or a peer that does not answer)
    // would hold the consumer's break for the call's whole deadline. The reference goes after it.
    if (source) {
      void Promise.resolve()
        .then(() => source.return())
        // The producer's apartment is gone or the link broke: there is nothing left to stop.
        .catch(() => undefined)
        .then(() => release(source));
    }
    return { value: value as T, done: true };
  }

  /** Items buffered here and not read yet (diagnostics and specs). */
  get buffered(): number {
    return this.buffer.length - this.head;
  }

  private prefetch(): void {
    if (this.inflight || this.ended || this.failure || !this.source) return;
    const buffered = this.buffered;
    if (buffered > this.limits.window / 2 || this.bufferedBytes > this.limits.maxBytes / 2) return;
    const count = this.limits.window - buffered;
    const bytes = Math.max(1, this.limits.maxBytes - this.bufferedBytes);
    const source = this.source;
    this.inflight = Promise.resolve()
      .then(() => (this.pullOptions ? source.next(count, bytes, this.pullOptions) : source.next(count, bytes)))
      .then(
        (batch) => {
          this.inflight = undefined;
          if (this.ended) return;
          if (batch === null || typeof batch !== 'object' || !Array.isArray(batch.items) || batch.items.length > count || typeof batch.done !== 'boolean') {
            void Promise.resolve().then(() => source.return()).catch(() => undefined);
            this.fail(new ProtocolError(`[stream] ${this.label} answered a pull with something that is not a batch of at most ${count} items; the stream was stopped`));
            return;
          }
          // A producer cancelled during a pull answers one empty batch, then its error; more in a row
          // would have this side pull again and again at once, the read never answered.
          this.emptyPulls = batch.items.length === 0 && !batch.done ? this.emptyPulls + 1 : 0;
          if (this.emptyPulls > MAX_EMPTY_PULLS) {
            void Promise.resolve().then(() => source.return()).catch(() => undefined);
            this.fail(new ProtocolError(`[stream] ${this.label} answered ${this.emptyPulls} pulls in a row with no items and no end; the stream was stopped`));
            return;
          }
          // A producer stops adding items once it has `bytes` (stream-source.ts): an item after that
          // point is one this side did not ask for.
          let weight = 0;
          for (const item of batch.items as T[]) {
            if (weight >= bytes) {
              void Promise.resolve().then(() => source.return()).catch(() => undefined);
              this.fail(new ProtocolError(`[stream] ${this.label} answered a pull for about ${bytes} bytes with more items after those bytes; the stream was stopped`));
              return;
            }
            weight += itemBytes(item);
          }
          for (const item of batch.items as T[]) this.buffer.push(item);
          this.bufferedBytes += weight;
          if (batch.done) this.end();
        },
        (error: unknown) => {
          this.inflight = undefined;
          if (!this.ended) this.fail(error);
        },
      );
  }

  private fail(error: unknown): void {
    this.failure = { error };
    this.end();
  }

  /** No more pulls: give back the reference to the producer's source. */
  private end(): void {
    this.ended = true;
    const source = this.source;
    this.source = undefined;
    if (source) release(source);
  }
}
