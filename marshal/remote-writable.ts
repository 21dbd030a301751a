// A web WritableStream passed to another apartment. The owner's side is a StreamSink, exported by
// reference, that writes the chunks it is sent to the real stream; the receiver gets a
// WritableStream whose writes are gathered into batches (up to the window) and sent one batch at a
// time, so a fast writer waits for the owner's stream (backpressure) instead of queueing without
// bound. close() and abort() reach the owner's stream after the batches before them. Owner apartment only.
import type { WritableStream } from 'node:stream/web';
import { ON_UNREFERENCED, byRef } from './by-ref.js';
import { CallRejectedError, DisconnectedError, InvalidArgumentError } from './errors.js';
import { release } from './proxy.js';
import { itemBytes, type StreamLimits } from './stream-options.js';
import { webStreams } from './web-streams.js';

/** Writes batches that arrive from another apartment into a local WritableStream. Travels by reference. */
export class StreamSink {
  private readonly writer: WritableStreamDefaultWriter<unknown>;
  private closed = false;

  constructor(stream: WritableStream<unknown>, readonly limits: StreamLimits) {
    byRef(this);
    this.writer = stream.getWriter();
  }

  async write(items: unknown): Promise<void> {
    if (this.closed) {
      // The stream would answer with its own TypeError, which names no stream and no remedy.
      throw new CallRejectedError('[stream-closed] this stream was closed or aborted, and takes no more chunks; write only before closing it');
    }
    if (!Array.isArray(items) || items.length > this.limits.window) {
      throw new InvalidArgumentError(`[stream] a write batch must be an array of at most ${this.limits.window} chunks`, { parameter: 'items' });
    }
    const writes: Promise<void>[] = [];
    try {
      for (const item of items) {
        await this.writer.ready;
        writes.push(this.writer.write(item));
      }
    } finally {
      // Once one write fails every later one fails with it, and `ready` too (which ends the loop):
      // the batch reports the first failure, and no write's rejection is left unhandled.
      for (const w of writes) w.catch(() => undefined);
    }
    await Promise.all(writes);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.writer.close();
  }

  async abort(reason: unknown): Promise<void> {
    this.closed = true;
    await this.writer.abort(reason);
  }

  [ON_UNREFERENCED](): void {
    if (this.closed) return;
    this.closed = true;
    // The writing apartment went away without closing: the stream cannot be completed.
    this.writer.abort(new DisconnectedError('[stream-abandoned] the apartment writing to this stream released it or went away before closing it')).catch(() => undefined);
  }
}

/** What the receiving side calls: a proxy to a StreamSink. */
export interface PushTarget {
  write(items: unknown[]): Promise<void>;
  close(): Promise<void>;
  abort(reason: unknown): Promise<void>;
}

/** The WritableStream a receiving apartment writes to; its chunks go to `sink` in batches. */
export function remoteWritable(sink: PushTarget, limits: StreamLimits): WritableStream<unknown> {
  let batch: unknown[] = [];
  let bytes = 0;
  let sending: Promise<void> = Promise.resolve();
  /** Batches handed to `sending` and not yet written by the owner. */
  let onTheirWay = 0;
  let failed: { error: unknown } | undefined;
  let timer: NodeJS.Immediate | undefined;

  const send = (): Promise<void> => {
    if (timer) clearImmediate(timer);
    timer = undefined;
    if (batch.length === 0) return sending;
    const items = batch;
    batch = [];
    bytes = 0;
    onTheirWay++;
    // After a failed batch the rest are not sent: the stream is errored, and they would land out of place.
    sending = sending
      .then(() => (failed ? undefined : sink.write(items)))
      .catch((error: unknown) => {
        if (failed) return;
        failed = { error };
        // Nothing more goes to the sink (an errored stream calls neither close nor abort): give its
        // reference back now, not when the collector finds the errored stream.
        release(sink);
      })
      .then(() => {
        onTheirWay--;
      });
    return sending;
  };
  const check = (): void => {
    if (failed) throw failed.error;
  };
  return new (webStreams().WritableStream)<unknown>({
    async write(chunk) {
      check();
      // A batch that is not full leaves at the end of the turn without being waited for; a writer
      // that writes a chunk a turn would chain them without end, so it waits here while two are on their way.
      if (onTheirWay >= 2) {
        await sending;
        check();
      }
      batch.push(chunk);
      bytes += itemBytes(chunk);
      // A full batch waits for the one before it: at most two batches are ever on their way.
      if (batch.length >= limits.window || bytes >= limits.maxBytes) {
        await sending;
        send();
        check();
      } else timer ??= setImmediate(send);
    },
    async close() {
      await send();
      check();
      try {
        await sink.close();
      } finally {
        release(sink);
      }
    },
    async abort(reason) {
      if (timer) clearImmediate(timer);
      batch = [];
      await sending;
      if (failed) return;
      try {
        await sink.abort(reason instanceof Error ? reason.message : String(reason));
      } finally {
        release(sink);
      }
    },
  });
}
