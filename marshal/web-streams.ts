// node:stream/web, loaded on first use. Loading it costs 1-2 ms in a fresh worker and most
// apartments never pass a web stream, so a thread loads it only once it meets an object that
// looks like one (looksLikeWebStream) or has to make one.
import { createRequire } from 'node:module';
import type * as WebStreams from 'node:stream/web';

const load = createRequire(import.meta.url);
let loaded: typeof WebStreams | undefined;

/** The module, loaded now if it was not. */
export function webStreams(): typeof WebStreams {
  return (loaded ??= load('node:stream/web') as typeof WebStreams);
}

/**
 * Whether `obj` may be a web ReadableStream or WritableStream: every one has getReader() or
 * getWriter(), so anything else is none without loading the module to ask `instanceof`.
 */
export function looksLikeWebStream(obj: object): boolean {
  const o = obj as { getReader?: unknown; getWriter?: unknown };
  return typeof o.getReader === 'function' || typeof o.getWriter === 'function';
}

/** Whether `value` is a web ReadableStream (loading the module only for a look-alike). */
export function isWebReadable(value: unknown): value is WebStreams.ReadableStream {
  return value !== null && typeof value === 'object' && looksLikeWebStream(value) && value instanceof webStreams().ReadableStream;
}

/** Whether `value` is a web WritableStream (loading the module only for a look-alike). */
export function isWebWritable(value: unknown): value is WebStreams.WritableStream {
  return value !== null && typeof value === 'object' && looksLikeWebStream(value) && value instanceof webStreams().WritableStream;
}
