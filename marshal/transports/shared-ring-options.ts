// The tuning a shared-ring pair is made with (shared-ring-transport.ts), checked once by its creator:
// the creator's values apply to both sides, carried to the other in the pair's handle.
import type { MessagePort } from 'node:worker_threads';
import { InvalidArgumentError } from '../errors.js';
import { MAX_RING_BYTES, MIN_RING_BYTES } from './ring-buffer.js';

/** Tuning of one shared-ring pair; the creator's values apply to both sides. */
export interface SharedRingOptions {
  /** Bytes per direction, a power of two (default 256 KiB). */
  ringBytes?: number;
  /** Batches whose encoding is larger go over the port (default ringBytes / 4). */
  maxInlineBytes?: number;
  /** How long a consumer spins for more input before parking, in µs (default 50; 0 never spins). */
  spinMicros?: number;
  /**
   * For specs only: where byte positions and sequence numbers start (default 0), an int32 that is
   * a multiple of 8. A start just below 2^31 or 2^32 runs both counters across their 32-bit wrap
   * within a few hundred items instead of after 2^31 of them.
   */
  startCounters?: number;
}

/** What one side sends to the other so it can attach: post it with `transferList: [handle.port]`. */
export interface SharedRingHandle {
  sab: SharedArrayBuffer;
  /** The attaching side's end of the companion channel. */
  port: MessagePort;
  /** Process-wide count of awake threads, shared by every pair so spinning backs off together. */
  gate: SharedArrayBuffer;
  maxInlineBytes: number;
  spinMicros: number;
}

const DEFAULT_RING_BYTES = 256 * 1024;
const DEFAULT_SPIN_MICROS = 50;

/** `options` with their defaults filled in; throws InvalidArgumentError naming the first bad one. */
export function checkSharedRingOptions(options: SharedRingOptions): Required<SharedRingOptions> {
  const ringBytes = options.ringBytes ?? DEFAULT_RING_BYTES;
  if (!Number.isInteger(ringBytes) || ringBytes < MIN_RING_BYTES || ringBytes > MAX_RING_BYTES || (ringBytes & (ringBytes - 1)) !== 0) {
    throw new InvalidArgumentError(`[shared-ring] ringBytes must be a power of two between ${MIN_RING_BYTES} and ${MAX_RING_BYTES}, got ${ringBytes}; pick e.g. 262144`, { parameter: 'ringBytes' });
  }
  const maxInlineBytes = options.maxInlineBytes ?? ringBytes / 4;
  if (!Number.isInteger(maxInlineBytes) || maxInlineBytes < 0 || maxInlineBytes > ringBytes / 2 - 8) {
    throw new InvalidArgumentError(`[shared-ring] maxInlineBytes must be an integer from 0 to ringBytes / 2 - 8 (${ringBytes / 2 - 8}), got ${maxInlineBytes}; larger batches go over the port anyway`, { parameter: 'maxInlineBytes' });
  }
  const spinMicros = options.spinMicros ?? DEFAULT_SPIN_MICROS;
  if (!(spinMicros >= 0 && spinMicros <= 10_000)) {
    throw new InvalidArgumentError(`[shared-ring] spinMicros must be from 0 to 10000, got ${spinMicros}; use 0 to never spin`, { parameter: 'spinMicros' });
  }
  const startCounters = options.startCounters ?? 0;
  if (!Number.isInteger(startCounters) || (startCounters | 0) !== startCounters || startCounters % 8 !== 0) {
    throw new InvalidArgumentError(`[shared-ring] startCounters must be an int32 multiple of 8, got ${startCounters}; leave it out outside specs`, { parameter: 'startCounters' });
  }
  return { ringBytes, maxInlineBytes, spinMicros, startCounters };
}
