// One apartment's user of a named total: it opens the named shared memory 'tour-total' and the
// named mutex 'tour-total-lock' (the first opener creates them, the others open the same ones),
// then adds 1 to the total `rounds` times as a plain read, then write. Each round the reader holds
// its window open until every other sharer has had its chance to read: without the mutex, until
// all have read (so all read the same value); with it, until all have arrived at the lock (they
// queue on it, so none can read in between).
import { named, traceMark, type Mutex, type NamedHandle } from 'apartment-runtime';
import { count, until } from './gate-counts.js';

/** Gate slots: sharers arrived at a round, sharers that read in it, sharers done with it. */
const ARRIVED = 0;
const READ = 1;
const DONE = 2;

export class Sharer {
  static threading = 'apartment';
  private memory: NamedHandle<SharedArrayBuffer> | undefined;
  private mutex: NamedHandle<Mutex> | undefined;

  /** Open (or, first of all, create) the named total and its mutex; answers whether this one created the total. */
  async open(): Promise<boolean> {
    this.mutex = await named.mutex('tour-total-lock');
    this.memory = await named.memory('tour-total', 4, (fresh) => {
      new Int32Array(fresh)[0] = 0;
    });
    traceMark(this.memory.created ? 'created total' : 'opened total');
    return this.memory.created;
  }

  async add(rounds: number, sharers: number, gateMemory: SharedArrayBuffer, useMutex: boolean): Promise<void> {
    if (!this.memory || !this.mutex) throw new Error('[tour] open() the named total before adding to it');
    const total = new Int32Array(this.memory.value);
    const gate = new Int32Array(gateMemory);
    for (let round = 1; round <= rounds; round++) {
      count(gate, ARRIVED);
      const guard = useMutex ? await this.mutex.value.lock() : undefined;
      const read = Atomics.load(total, 0);
      traceMark('read', read);
      count(gate, READ);
      await until(gate, useMutex ? ARRIVED : READ, sharers * round);
      Atomics.store(total, 0, read + 1);
      traceMark('write', read + 1);
      guard?.unlock();
      count(gate, DONE);
      await until(gate, DONE, sharers * round);
    }
  }

  total(): number {
    if (!this.memory) throw new Error('[tour] open() the named total before reading it');
    return Atomics.load(new Int32Array(this.memory.value), 0);
  }

  /** Close both handles; the last sharer to close releases the named objects. */
  async close(): Promise<void> {
    await Promise.all([this.memory?.close(), this.mutex?.close()]);
    this.memory = undefined;
    this.mutex = undefined;
  }
}
