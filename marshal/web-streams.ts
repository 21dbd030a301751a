// node:stream/web, loaded on first use. Loading it costs 1-2 ms in a fresh worker and most
// apartments never pass a web stream, so a thread loads it only once it meets an object that
// looks like one (webStreamKind) or has to make one.
import type * as WebStreams from 'node:stream/web';

let loaded: typeof WebStreams | undefined;

/** The module, loaded now if it was not. */
export function webStreams(): typeof WebStreams {
  return (loaded ??= process.getBuiltinModule('node:stream/web') as typeof WebStreams);
}

/**
 * Which web stream `value` is, if any. Every web stream has getReader() or getWriter(), so
 * anything else is none without loading the module to ask `instanceof`.
 */
export function webStreamKind(value: unknown): 'readable' | 'writable' | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const o = value as { getReader?: unknown; getWriter?: unknown };
  if (typeof o.getReader !== 'function' && typeof o.getWriter !== 'function') return undefined;
  const { ReadableStream, WritableStream } = webStreams();
  return value instanceof ReadableStream ? 'readable' : value instanceof WritableStream ? 'writable' : undefined;
}

/** Whether `value` is a web ReadableStream (loading the module only for a look-alike). */
export function isWebReadable(value: unknown): value is WebStreams.ReadableStream {
  return webStreamKind(value) === 'readable';
}

/** Whether `value` is a web WritableStream (loading the module only for a look-alike). */
export function isWebWritable(value: unknown): value is WebStreams.WritableStream {
  return webStreamKind(value) === 'writable';
}

/**
 * An iterator over `stream` through its reader: return() cancels the stream at once, also while a
 * read waits for a chunk (the stream's own async iterator waits for that read to settle first).
 */
export function readerIterator<T>(stream: WebStreams.ReadableStream<T>): AsyncIterator<T> {
  const reader = stream.getReader();
  return {
    next: () => reader.read() as Promise<IteratorResult<T>>,
    return: async (value?: unknown) => {
      await reader.cancel();
      return { value: value as T, done: true };
    },
  };
}
