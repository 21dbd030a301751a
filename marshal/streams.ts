// Streams across apartments: async iterables (async generators among them) and web
// ReadableStreams travel by reference to a StreamSource and arrive as async iterables (a
// RemoteIterator) or ReadableStreams pulling from it; WritableStreams travel by reference to a
// StreamSink and arrive as WritableStreams. The codec asks marshalStream() about every object that
// is not plain data; the receiving side rebuilds the stream under the value type 'stream'.
import type { ReadableStream, WritableStream } from 'node:stream/web';
import { CUSTOM_MARSHAL, type CustomMarshaled } from './by-ref.js';
import { checkAbortSignal, checkFlag, checkOptionsObject } from './call-options.js';
import { InvalidArgumentError, MarshalError, ProtocolError } from './errors.js';
import { remoteStateOf } from './proxy.js';
import { RemoteIterator, type PullSource } from './remote-iterator.js';
import { StreamSink, remoteWritable, type PushTarget } from './remote-writable.js';
import { StreamSource } from './stream-source.js';
import { STREAM_OPTION_KEYS, streamLimits, type StreamLimits, type StreamOptions } from './stream-options.js';
import { registerValueType } from './value-types.js';
import { isWebReadable, isWebWritable, webStreamKind, webStreams } from './web-streams.js';

/** The value-type key streams travel under (docs/protocol.md). */
export const STREAM_KEY = 'stream';

type StreamKind = 'iterable' | 'readable' | 'writable';

interface StreamPayload {
  kind: StreamKind;
  /** The StreamSource or StreamSink; a reference on the wire. */
  end: object;
  window: number;
  maxBytes: number;
  pullTimeoutMs: number | undefined;
}

/** One source (or sink) per local stream, so passing it twice names one object. */
const exported = new WeakMap<object, StreamSource | StreamSink>();
/** One rebuilt stream per arrived source, so it arrives as the same object each time. */
const rebuilt = new WeakMap<object, object>();

/** An async iterable or web stream with the options it crosses apartments with. */
export interface StreamHandle<T> extends AsyncIterable<T> {
  [CUSTOM_MARSHAL](): CustomMarshaled;
}

/**
 * Pass `source` to another apartment with these options (window, byte budget, transfer, a signal
 * to stop it from this side). Without stream(), async iterables and web streams travel with the
 * defaults. The result is still an async iterable here.
 */
export function stream<T>(source: AsyncIterable<T> | ReadableStream<T>, options: StreamOptions = {}): StreamHandle<T> {
  checkOptionsObject(options, 'stream(source, options)', '{ window: 64 }', 'stream', STREAM_OPTION_KEYS);
  // Here, not in streamLimits(), which also reads a peer's payload: a 'true' copied every chunk.
  checkFlag(options.transfer, 'transfer', 'stream');
  const limits = streamLimits(options);
  const kind: StreamKind = isWebReadable(source) ? 'readable' : 'iterable';
  // Found here, not by the other apartment's first read as a TypeError naming neither the stream nor the remedy.
  if (kind === 'iterable' && typeof (source as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] !== 'function') {
    const what = isWebWritable(source) ? 'a WritableStream (pass it as it is: it takes no options)' : Array.isArray(source) ? 'an array (wrap it in an async generator, or ReadableStream.from())' : String(source === null ? null : typeof source);
    throw new InvalidArgumentError(`[stream] stream() takes an async iterable, an async generator or a web ReadableStream; got ${what}`, { parameter: 'source' });
  }
  if (kind === 'readable' && (source as ReadableStream<T>).locked) throw new InvalidArgumentError(lockedMessage('ReadableStream', 'given to stream()'), { parameter: 'source' });
  const signal = checkAbortSignal(options.signal, 'signal', 'stream');
  return {
    [Symbol.asyncIterator]: () => (source as AsyncIterable<T>)[Symbol.asyncIterator](),
    [CUSTOM_MARSHAL]: () => payloadOf(source, kind, limits, signal),
  };
}

/** How the codec sends `obj` (found at `where()`) if it is a stream (an async iterable or a web stream); otherwise undefined. */
export function marshalStream(obj: object, where: () => string): CustomMarshaled | undefined {
  const web = webStreamKind(obj);
  if (web !== undefined) {
    // Its source or sink could not lock it: the other apartment would meet a TypeError naming neither
    // the stream nor the remedy. (One passed before is locked by its own source or sink.)
    if (!exported.has(obj) && (obj as ReadableStream | WritableStream).locked) {
      throw new MarshalError(lockedMessage(web === 'readable' ? 'ReadableStream' : 'WritableStream', `at ${where()}`), { path: where() });
    }
    return payloadOf(obj, web, streamLimits(undefined), undefined);
  }
  if (typeof (obj as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function') {
    return payloadOf(obj, 'iterable', streamLimits(undefined), undefined);
  }
  return undefined;
}

function payloadOf(stream: object, kind: StreamKind, limits: StreamLimits, signal: AbortSignal | undefined): CustomMarshaled {
  let end = exported.get(stream);
  if (!end) {
    end = kind === 'writable' ? new StreamSink(stream as WritableStream<unknown>, limits) : new StreamSource(stream as AsyncIterable<unknown>, limits, signal);
    exported.set(stream, end);
  }
  const payload: StreamPayload = { kind, end, window: end.limits.window, maxBytes: end.limits.maxBytes, pullTimeoutMs: end.limits.pullTimeoutMs };
  return { key: STREAM_KEY, payload };
}

function lockedMessage(kind: 'ReadableStream' | 'WritableStream', where: string): string {
  const holder = kind === 'ReadableStream' ? 'reader' : 'writer';
  return `[stream] the ${kind} ${where} is locked (a ${holder} or a pipe holds it) and cannot be passed to another apartment; release its ${holder} (releaseLock()) first`;
}

/** Rebuild a stream that arrived: an async iterable, a ReadableStream or a WritableStream. */
function rebuildStream(payload: unknown): unknown {
  const p = payload as Partial<StreamPayload> | null;
  if (p === null || typeof p !== 'object' || (p.kind !== 'iterable' && p.kind !== 'readable' && p.kind !== 'writable')) {
    throw new ProtocolError('[stream] a stream arrived without a kind this apartment knows (iterable, readable, writable)');
  }
  const end = p.end;
  const state = remoteStateOf(end);
  // Came home: the end must be the kind the stream says, or its first read or write would fail with a TypeError.
  const home = p.kind === 'writable' ? end instanceof StreamSink : end instanceof StreamSource;
  if (!state && !home) throw new ProtocolError('[stream] a stream arrived without a reference to its producer');
  let limits: StreamLimits;
  try {
    limits = streamLimits({ window: p.window, maxBytes: p.maxBytes, pullTimeoutMs: p.pullTimeoutMs ?? undefined });
  } catch (err) {
    throw new ProtocolError(`[stream] a stream arrived with bad limits: ${(err as Error).message}`);
  }
  const known = rebuilt.get(end as object);
  if (known) return known;
  const label = state ? `apartment ${state.apartment}` : 'this apartment';
  let made: object;
  if (p.kind === 'writable') made = remoteWritable(end as unknown as PushTarget, limits);
  else {
    const it = new RemoteIterator(end as unknown as PullSource, limits, label);
    made = p.kind === 'readable' ? readableOf(it) : it;
  }
  rebuilt.set(end as object, made);
  return made;
}

/** A ReadableStream that reads `it` one item per pull; cancel() stops the producer. */
function readableOf(it: RemoteIterator): ReadableStream<unknown> {
  return new (webStreams().ReadableStream)<unknown>({
    async pull(controller) {
      const r = await it.next();
      if (r.done) controller.close();
      else controller.enqueue(r.value);
    },
    async cancel() {
      await it.return();
    },
  }, { highWaterMark: 0 });
}

registerValueType(STREAM_KEY, rebuildStream);
