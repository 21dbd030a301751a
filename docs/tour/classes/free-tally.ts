// A free-threaded tally with one mistake on purpose: `field` is an ordinary field, so every pool
// thread's view of the object has its own, while `cells` (shared memory) is one for all views.
import { threadId } from 'node:worker_threads';
import { traceMark } from 'apartment-runtime';

export class FreeTally {
  static threading = 'free';
  /** [calls counted, calls arrived]. */
  private readonly cells: Int32Array;
  private field = 0;
  constructor(sab?: SharedArrayBuffer) {
    this.cells = new Int32Array(sab ?? new SharedArrayBuffer(8));
  }
  toShared(): SharedArrayBuffer {
    return this.cells.buffer as SharedArrayBuffer;
  }
  static fromShared(sab: SharedArrayBuffer): FreeTally {
    return new FreeTally(sab);
  }
  /**
   * Count this call in shared memory and in the field. With `pairs`, block until the other call
   * of this round arrived: two calls can only both return if they run on two threads at once.
   */
  count(round: number, pairs: boolean): { shared: number; field: number; thread: number } {
    const shared = Atomics.add(this.cells, 0, 1) + 1;
    this.field++;
    traceMark('shared', shared);
    traceMark('field', this.field);
    if (pairs) {
      const needed = 2 * (round + 1);
      if (Atomics.add(this.cells, 1, 1) + 1 >= needed) Atomics.notify(this.cells, 1);
      else for (let seen = Atomics.load(this.cells, 1); seen < needed; seen = Atomics.load(this.cells, 1)) Atomics.wait(this.cells, 1, seen, 50);
    }
    return { shared, field: this.field, thread: threadId };
  }
}
