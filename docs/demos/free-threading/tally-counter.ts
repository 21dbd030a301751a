// A free-threaded counter with one mistake on purpose: `field` is an ordinary field, so every
// pool thread's view of the object has its own.
import { threadId } from 'node:worker_threads';

/** How long a call waits for its partner before giving up (only if the pool were not running it in parallel). */
const PARTNER_TIMEOUT_MS = 10_000;

export class TallyCounter {
  static threading = 'free';
  /** [calls counted, calls arrived]: shared by every view. */
  private readonly cells: Int32Array;
  private field = 0;
  constructor(sab?: SharedArrayBuffer) {
    this.cells = new Int32Array(sab ?? new SharedArrayBuffer(8));
  }
  toShared(): SharedArrayBuffer {
    return this.cells.buffer as SharedArrayBuffer;
  }
  static fromShared(sab: SharedArrayBuffer): TallyCounter {
    return new TallyCounter(sab);
  }

  /**
   * Count this call in shared memory and in the ordinary field, then block this pool thread until
   * the other call of round `round` has arrived. A blocked thread runs nothing else, so the two calls
   * of a round can only both return by running on two different threads at once.
   */
  countInPairs(round: number): { shared: number; field: number; thread: number } {
    const shared = Atomics.add(this.cells, 0, 1) + 1;
    this.field++;
    const needed = 2 * (round + 1);
    if (Atomics.add(this.cells, 1, 1) + 1 >= needed) {
      Atomics.notify(this.cells, 1);
    } else {
      const end = Date.now() + PARTNER_TIMEOUT_MS;
      for (let seen = Atomics.load(this.cells, 1); seen < needed; seen = Atomics.load(this.cells, 1)) {
        if (Date.now() > end) throw new Error(`round ${round}: the other call never arrived; the two calls did not run in parallel`);
        Atomics.wait(this.cells, 1, seen, 50);
      }
    }
    return { shared, field: this.field, thread: threadId };
  }
}
