// The process-wide table of ordered locks held by logical calls (served calls, keyed by their
// causality id). A logical call moves between apartments as it calls out and is called back, so
// what it holds must be readable from every thread: the table lives in one SharedArrayBuffer that
// the first thread to load this module (the host's main thread, before it starts any worker)
// creates and hands to every worker it starts through worker_threads' environment data. No message
// carries lock state, and a lock held in one apartment is seen at once in every apartment the same
// call reaches.
//
// Each row is one held lock: the call's causality id, the lock's level and name, and the apartment
// that took it (so the rows of an apartment that dies can be dropped). Rows are few — locks held at
// this instant across the runtime — so every operation scans rows up to a high-water mark, under a
// small futex lock kept for the handful of loads and stores each operation makes.
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import { ApartmentError } from '../../marshal/errors.js';

const ENV_KEY = 'apartment-runtime:held-locks';
/** Rows at most: ordered locks held at once across the whole runtime. */
export const HELD_LOCK_ROWS = 512;
const NAME_BYTES = 96;
// Header (Int32): the table's own lock (0 free, 1 taken, 2 taken with waiters), then the high-water mark.
const GATE = 0;
const HIGH = 1;
const HEADER_BYTES = 8;

/** A held lock as another thread reads it back (for the error that names it). */
export interface HeldRow {
  readonly name: string;
  readonly level: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class HeldLockTable {
  private readonly header: Int32Array;
  /** The causality id of the call holding the row's lock; 0 marks a free row (ids start at 1). */
  private readonly keys: Float64Array;
  private readonly levels: Float64Array;
  private readonly apartments: Int32Array;
  private readonly nameLengths: Int32Array;
  private readonly names: Uint8Array;

  constructor(readonly sab: SharedArrayBuffer) {
    let at = HEADER_BYTES;
    const take = (bytes: number): number => {
      const here = at;
      at += bytes;
      return here;
    };
    this.header = new Int32Array(sab, 0, 2);
    this.keys = new Float64Array(sab, take(8 * HELD_LOCK_ROWS), HELD_LOCK_ROWS);
    this.levels = new Float64Array(sab, take(8 * HELD_LOCK_ROWS), HELD_LOCK_ROWS);
    this.apartments = new Int32Array(sab, take(4 * HELD_LOCK_ROWS), HELD_LOCK_ROWS);
    this.nameLengths = new Int32Array(sab, take(4 * HELD_LOCK_ROWS), HELD_LOCK_ROWS);
    this.names = new Uint8Array(sab, take(NAME_BYTES * HELD_LOCK_ROWS), NAME_BYTES * HELD_LOCK_ROWS);
  }

  static byteLength(): number {
    return HEADER_BYTES + HELD_LOCK_ROWS * (8 + 8 + 4 + 4 + NAME_BYTES);
  }

  /** Record that call `key` (taking it in `apartment`) holds `name` at `level`; returns the row. */
  add(key: number, apartment: number, name: string, level: number): number {
    const bytes = encoder.encode(name).subarray(0, NAME_BYTES);
    return this.guarded(() => {
      const high = this.header[HIGH]!;
      let row = 0;
      while (row < high && this.keys[row] !== 0) row++;
      if (row === HELD_LOCK_ROWS) {
        throw new ApartmentError('ERROR_BUSY', `[lock-order-full] more than ${HELD_LOCK_ROWS} ordered locks are held at once across the runtime; release locks you no longer need, or turn checking off with setLockOrderChecking(false)`);
      }
      if (row === high) this.header[HIGH] = high + 1;
      this.keys[row] = key;
      this.levels[row] = level;
      this.apartments[row] = apartment;
      this.nameLengths[row] = bytes.length;
      this.names.set(bytes, row * NAME_BYTES);
      return row;
    });
  }

  /** Drop `row`, if it still belongs to call `key`. */
  remove(row: number, key: number): void {
    this.guarded(() => {
      if (this.keys[row] === key) this.free(row);
    });
  }

  /** The highest-level lock call `key` holds at `level` or above, if any. */
  atOrAbove(key: number, level: number): HeldRow | undefined {
    return this.guarded(() => {
      let found = -1;
      const high = this.header[HIGH]!;
      for (let row = 0; row < high; row++) {
        if (this.keys[row] === key && this.levels[row]! >= level && (found < 0 || this.levels[row]! > this.levels[found]!)) found = row;
      }
      if (found < 0) return undefined;
      const start = found * NAME_BYTES;
      // slice() copies out of shared memory: TextDecoder does not read shared views.
      return { name: decoder.decode(this.names.slice(start, start + this.nameLengths[found]!)), level: this.levels[found]! };
    });
  }

  /** Drop every row an apartment took (it is gone, and so are the locks it could release). */
  forgetApartment(apartment: number): void {
    this.guarded(() => {
      const high = this.header[HIGH]!;
      for (let row = 0; row < high; row++) if (this.keys[row] !== 0 && this.apartments[row] === apartment) this.free(row);
    });
  }

  /** Rows in use (specs check that released locks leave nothing behind). */
  rowsInUse(): number {
    return this.guarded(() => {
      let n = 0;
      for (let row = 0; row < this.header[HIGH]!; row++) if (this.keys[row] !== 0) n++;
      return n;
    });
  }

  private free(row: number): void {
    this.keys[row] = 0;
    let high = this.header[HIGH]!;
    while (high > 0 && this.keys[high - 1] === 0) high--;
    this.header[HIGH] = high;
  }

  /** Run `fn` holding the table's own lock (a futex: spin once, then sleep until woken). */
  private guarded<T>(fn: () => T): T {
    let state = Atomics.compareExchange(this.header, GATE, 0, 1);
    if (state !== 0) {
      if (state !== 2) state = Atomics.exchange(this.header, GATE, 2);
      while (state !== 0) {
        Atomics.wait(this.header, GATE, 2);
        state = Atomics.exchange(this.header, GATE, 2);
      }
    }
    try {
      return fn();
    } finally {
      if (Atomics.sub(this.header, GATE, 1) !== 1) {
        Atomics.store(this.header, GATE, 0);
        Atomics.notify(this.header, GATE, 1);
      }
    }
  }
}

/** This process's table: the one a parent thread handed down, or a new one handed to threads started from here on. */
function processTable(): HeldLockTable {
  const inherited = getEnvironmentData(ENV_KEY);
  if (inherited instanceof SharedArrayBuffer) return new HeldLockTable(inherited);
  const table = new HeldLockTable(new SharedArrayBuffer(HeldLockTable.byteLength()));
  setEnvironmentData(ENV_KEY, table.sab);
  return table;
}

/** Created when this module loads, which is before the runtime starts any worker. */
export const heldLocks = processTable();
