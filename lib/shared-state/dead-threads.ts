// Which threads of this process have ended, in shared memory every apartment's thread reads: a
// SharedMutex waiter passes on a turn that a dead thread held or waited for, as Windows hands an
// abandoned mutex to its next waiter. The main apartment records a worker apartment's thread once
// it has exited (never before: a thread still running must keep what it holds) and hands the table
// to each worker apartment at boot. A thread is named by its threadId + 1 (0 is no thread).
// Written by the main thread only; read anywhere.

/** Ends remembered: a ring, the oldest forgotten first (a lock held by a thread that ended 4096 thread ends ago stays held). */
const CAPACITY = 4_096;
/** [ends recorded so far, then the ring of ended threads]. */
const BYTES = (1 + CAPACITY) * 4;

let table = new Int32Array(new SharedArrayBuffer(BYTES));

/** This process's table, to hand to a worker apartment at boot. */
export function deadThreadTable(): SharedArrayBuffer {
  return table.buffer as SharedArrayBuffer;
}

/** A worker apartment's boot: read the main thread's table from now on. */
export function useDeadThreadTable(memory: unknown): void {
  if (memory instanceof SharedArrayBuffer && memory.byteLength === BYTES) table = new Int32Array(memory);
}

/** Main thread: the thread `threadId` has exited. */
export function threadEnded(threadId: number): void {
  const at = Atomics.add(table, 0, 1);
  Atomics.store(table, 1 + (at % CAPACITY), threadId + 1);
}

/** Whether the thread named `owner` (a threadId + 1) has ended. */
export function isDeadThread(owner: number): boolean {
  if (owner === 0) return false;
  const recorded = Math.min(Atomics.load(table, 0), CAPACITY);
  for (let i = 1; i <= recorded; i++) if (Atomics.load(table, i) === owner) return true;
  return false;
}
