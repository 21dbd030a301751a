// Which threads of this process have ended, in shared memory every apartment's thread reads: a
// SharedMutex waiter passes on a turn that a dead thread held or waited for, as Windows hands an
// abandoned mutex to its next waiter. The main apartment records a worker apartment's thread once
// it has exited (never before: a thread still running must keep what it holds) and hands the table
// to each worker apartment at boot. A thread is named by its threadId + 1 (0 is no thread).
// Written by the main thread only; read anywhere.

/** Thread ids the table covers: one bit each (128 KiB). Node numbers threads from 1 and never reuses an id. */
const THREADS = 1 << 20;

/** One bit per threadId, set once the thread has ended; made when first needed. */
let bits: Int32Array | undefined;

/** This process's table, to hand to a worker apartment at boot. */
export function deadThreadTable(): SharedArrayBuffer {
  bits ??= new Int32Array(new SharedArrayBuffer(THREADS / 8));
  return bits.buffer as SharedArrayBuffer;
}

/** A worker apartment's boot: read the main thread's table from now on. */
export function useDeadThreadTable(memory: unknown): void {
  if (memory instanceof SharedArrayBuffer && memory.byteLength === THREADS / 8) bits = new Int32Array(memory);
}

/** Main thread: the thread `threadId` has exited. */
export function threadEnded(threadId: number): void {
  if (!(threadId >= 0 && threadId < THREADS)) return;
  deadThreadTable();
  Atomics.or(bits!, threadId >> 5, 1 << (threadId & 31));
}

/** Whether the thread named `owner` (a threadId + 1) has ended; one past the table's range never counts as ended. */
export function isDeadThread(owner: number): boolean {
  const id = owner - 1;
  if (!bits || !(id >= 0 && id < THREADS)) return false;
  return ((Atomics.load(bits, id >> 5) >>> (id & 31)) & 1) === 1;
}
