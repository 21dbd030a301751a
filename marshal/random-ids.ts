// Unguessable ids: the grant an exporter makes for each object (protocol.ts, WireRef) and the
// tokens of explicit marshaling. Each is 128 random bits from node:crypto, as 32 hex digits.
// Loading node:crypto costs about 3 ms in a fresh worker, before its first object can be
// exported; so the thread that starts a worker hands it random bytes for its first ids
// (startEntropy, useStartEntropy), and the worker loads node:crypto only once they run out.
// Owner thread only: each thread has its own pool.
import type * as NodeCrypto from 'node:crypto';

const ID_BYTES = 16;
/** Ids a worker's start-up bytes cover: the objects and callbacks of a typical start, and more. */
const START_IDS = 64;
/** Bytes drawn from node:crypto at once when the pool runs dry (one call per 256 ids). */
const REFILL_BYTES = 4_096;

let crypto: typeof NodeCrypto | undefined;
let pool: Buffer | undefined;
let at = 0;

function nodeCrypto(): typeof NodeCrypto {
  // process.getBuiltinModule, not a require made with node:module: loading that is 0.4 ms more of a
  // worker's start.
  return (crypto ??= process.getBuiltinModule('node:crypto') as typeof NodeCrypto);
}

/** Random bytes for a worker's first ids, made by the thread that starts it. */
export function startEntropy(): Uint8Array {
  return nodeCrypto().randomBytes(START_IDS * ID_BYTES);
}

/** Draw this thread's first ids from `bytes` (a worker's start-up bytes); anything but enough bytes is ignored. */
export function useStartEntropy(bytes: unknown): void {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < ID_BYTES) return;
  pool = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength - (bytes.byteLength % ID_BYTES));
  at = 0;
}

/** A fresh unguessable id: 32 hex digits. */
export function randomId(): string {
  if (!pool || at + ID_BYTES > pool.byteLength) {
    pool = nodeCrypto().randomBytes(REFILL_BYTES);
    at = 0;
  }
  const id = pool.toString('hex', at, at + ID_BYTES);
  // An id is drawn once: its bytes are wiped so nothing later in this thread can read them back.
  pool.fill(0, at, at + ID_BYTES);
  at += ID_BYTES;
  return id;
}
