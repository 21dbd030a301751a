// A free-threaded counter with one mistake on purpose: `field` is an ordinary field.
import { threadId } from 'node:worker_threads';

export class TallyCounter {
  static threading = 'free';
  private readonly cells: Int32Array;
  private field = 0;
  constructor(sab?: SharedArrayBuffer) {
    this.cells = new Int32Array(sab ?? new SharedArrayBuffer(4));
  }
  toShared(): SharedArrayBuffer {
    return this.cells.buffer as SharedArrayBuffer;
  }
  static fromShared(sab: SharedArrayBuffer): TallyCounter {
    return new TallyCounter(sab);
  }
  async count(): Promise<{ shared: number; field: number; thread: number }> {
    const shared = Atomics.add(this.cells, 0, 1) + 1;
    this.field++;
    await new Promise((r) => setTimeout(r, 1));
    return { shared, field: this.field, thread: threadId };
  }
}
