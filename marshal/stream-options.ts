// How a stream crosses apartments: the window that bounds how far its producer runs ahead of the
// consumer, the batch's byte budget, whether binary chunks are moved rather than copied, and a
// signal with which the producing side may stop it. Plain data, checked where it arrives.
import { isArrayBuffer } from 'node:util/types';
import { InvalidArgumentError, shownValue } from './errors.js';
import { optionKeys } from './option-keys.js';

/** Options of `stream()`; the defaults apply to any async iterable or web stream passed as is. */
export interface StreamOptions {
  /** Items the producer may run ahead of the consumer (the pull size); default 256. */
  window?: number;
  /** Bytes of binary or string items per batch (a batch stops once it reaches this); default 1 MiB. */
  maxBytes?: number;
  /**
   * Move the ArrayBuffers of binary items (typed arrays, DataViews, ArrayBuffers) instead of copying
   * them; the producer must not touch a chunk after yielding it. Default false.
   */
  transfer?: boolean;
  /** Stop the stream from the producing side: the consumer's next read rejects with CallCanceledError. */
  signal?: AbortSignal;
  /** Deadline of each pull, for producers that may stay quiet longer than the call default. */
  pullTimeoutMs?: number;
}
/** The keys stream() takes; any other is refused. */
export const STREAM_OPTION_KEYS = optionKeys<StreamOptions>({ window: true, maxBytes: true, transfer: true, signal: true, pullTimeoutMs: true });

/** The checked options a stream source works with. */
export interface StreamLimits {
  window: number;
  maxBytes: number;
  transfer: boolean;
  pullTimeoutMs: number | undefined;
}

export const DEFAULT_WINDOW = 256;
export const DEFAULT_MAX_BYTES = 1 << 20;
/** Upper bounds a consumer accepts from a producer's payload (an untrusted peer's numbers). */
export const MAX_WINDOW = 1 << 16;
export const MAX_BATCH_BYTES = 1 << 28;

/** Check `options` (a user's, or the payload a peer sent) and fill in the defaults. */
export function streamLimits(options: Partial<StreamOptions> | undefined): StreamLimits {
  const window = options?.window ?? DEFAULT_WINDOW;
  const maxBytes = options?.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isInteger(window) || window < 1 || window > MAX_WINDOW) {
    throw new InvalidArgumentError(`[stream] window must be an integer from 1 to ${MAX_WINDOW}; got ${shownValue(window)}`, { parameter: 'window' });
  }
  if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > MAX_BATCH_BYTES) {
    throw new InvalidArgumentError(`[stream] maxBytes must be an integer from 1 to ${MAX_BATCH_BYTES}; got ${shownValue(maxBytes)}`, { parameter: 'maxBytes' });
  }
  const pullTimeoutMs = options?.pullTimeoutMs;
  if (pullTimeoutMs !== undefined && !(typeof pullTimeoutMs === 'number' && pullTimeoutMs > 0 && pullTimeoutMs <= 2 ** 31 - 1)) {
    throw new InvalidArgumentError(`[stream] pullTimeoutMs must be a positive number of milliseconds; got ${shownValue(pullTimeoutMs)}`, { parameter: 'pullTimeoutMs' });
  }
  return { window, maxBytes, transfer: options?.transfer === true, pullTimeoutMs };
}

/**
 * What an item weighs against the byte budget: binary and string lengths; other items count by number only.
 * The producer weighs an item before it is sent and the reader after it arrived (where a clone made
 * it an object of the reader's realm), so the weight must not depend on the realm: an ArrayBuffer
 * of a vm context, which `instanceof ArrayBuffer` misses, weighs its bytes too.
 */
export function itemBytes(item: unknown): number {
  if (typeof item === 'string') return item.length;
  if (isArrayBuffer(item)) return item.byteLength;
  if (ArrayBuffer.isView(item)) return item.byteLength;
  return 0;
}
