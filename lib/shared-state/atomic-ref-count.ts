// Reference counts in shared memory. AtomicRefCount is exact under any number of threads; the
// NonAtomicCount exists only to show (in docs/demos/lost-decrement) the lost update that a plain
// read-modify-write suffers — the bug the threading-models document walks through — and can force
// that document's schedule so the loss is the same on every run.
import { CUSTOM_MARSHAL, type CustomMarshaled } from '../../marshal/by-ref.js';
import { registerValueType } from '../../marshal/value-types.js';
import { isMainThread } from 'node:worker_threads';
import { ApartmentError, CallTimeoutError, InvalidArgumentError, shownValue } from '../../marshal/errors.js';
import { monotonicMs } from '../../marshal/monotonic-clock.js';

/** One 32-bit integer in shared memory: new, or a view of an existing one (`sab`). */
class SharedCell {
  protected readonly cell: Int32Array;
  constructor(initial: number, sab: SharedArrayBuffer | undefined) {
    if (sab !== undefined && !(sab instanceof SharedArrayBuffer && sab.byteLength >= 4)) {
      throw new InvalidArgumentError('[shared-cell] expected the SharedArrayBuffer of a count', { parameter: 'sab' });
    }
    this.cell = new Int32Array(sab ?? new SharedArrayBuffer(4));
    if (!sab) this.cell[0] = initial;
  }
  get sab(): SharedArrayBuffer {
    return this.cell.buffer as SharedArrayBuffer;
  }
  get value(): number {
    return Atomics.load(this.cell, 0);
  }
}

/** A reference count that never loses an update; addRef/release return the new count. */
export class AtomicRefCount extends SharedCell {
  constructor(initial = 0, sab?: SharedArrayBuffer) {
    super(initial, sab);
  }
  addRef(): number {
    return Atomics.add(this.cell, 0, 1) + 1;
  }
  /** Release one reference; releasing below zero is a bug in the caller and throws (never clamps). */
  release(): number {
    for (;;) {
      const now = Atomics.load(this.cell, 0);
      if (now <= 0) throw new ApartmentError('E_UNEXPECTED', '[ref-count-negative] release() on a count that is already 0; every release needs a matching addRef');
      if (Atomics.compareExchange(this.cell, 0, now, now - 1) === now) return now - 1;
    }
  }
  [CUSTOM_MARSHAL](): CustomMarshaled {
    return { key: 'atomic-ref-count', payload: this.sab, sharedMemory: true };
  }
}

// The teaching count's cells: the count, then the forced schedule (racers, arrivals, round, wait).
const RACERS = 1;
const ARRIVED = 2;
const ROUND = 3;
const WAIT_MS = 4;
const TEACHING_CELLS = 5;

/** Options of the teaching count. */
export interface NonAtomicCountOptions {
  /**
   * Force the schedule the threading-models document walks through, every time: after reading the
   * count, each release waits until `racers` releases (one per racing thread) have read it too,
   * and only then writes its value back. All of them read the same number and write the same
   * number minus one, so each round of `racers` releases lowers the count by exactly 1. Every
   * racer must release the same number of times. Without this option the loss depends on how the
   * threads happen to interleave (usually some, sometimes none).
   */
  racers?: number;
  /** With `racers`: how long one release waits for the others to read before giving up (default 10 s). */
  waitMs?: number;
}

/**
 * The broken version, for teaching only: read, then write back, with nothing stopping another
 * thread in between. It blocks while it waits for the other racers, so use it from worker apartments.
 */
export class NonAtomicCount extends SharedCell {
  constructor(initial = 0, options: NonAtomicCountOptions = {}, sab?: SharedArrayBuffer) {
    super(initial, sab ?? new SharedArrayBuffer(TEACHING_CELLS * 4));
    if (sab) return;
    const { racers = 1, waitMs = 10_000 } = options;
    if (!Number.isInteger(racers) || racers < 1) throw new InvalidArgumentError(`[racers] racers must be a whole number ≥ 1; got ${shownValue(racers)}`, { parameter: 'racers' });
    if (!Number.isInteger(waitMs) || waitMs < 1) throw new InvalidArgumentError(`[racers] waitMs must be a whole number of ms ≥ 1; got ${shownValue(waitMs)}`, { parameter: 'waitMs' });
    this.cell[0] = initial;
    this.cell[RACERS] = racers;
    this.cell[WAIT_MS] = waitMs;
  }

  release(): number {
    const read = this.cell[0]!;
    const racers = this.cell.length >= TEACHING_CELLS ? Atomics.load(this.cell, RACERS) : 1;
    if (racers > 1) this.switchAfterRead(racers);
    // Without a forced schedule, a little work between read and write widens the window by chance.
    else for (let i = 0; i < 50; i++) Math.sqrt(i);
    this.cell[0] = read - 1;
    return read - 1;
  }

  /** The context switch at the worst moment: wait until every racer has read this round's value. */
  private switchAfterRead(racers: number): void {
    if (isMainThread) {
      throw new ApartmentError('E_UNEXPECTED', '[racers-main] a NonAtomicCount with racers waits (blocking) for the other racers; release it from worker apartments, not the main thread');
    }
    const round = Atomics.load(this.cell, ROUND);
    if (Atomics.add(this.cell, ARRIVED, 1) + 1 === racers) {
      // The last to read opens the round (arrivals are reset before anyone can start the next one).
      Atomics.store(this.cell, ARRIVED, 0);
      Atomics.add(this.cell, ROUND, 1);
      Atomics.notify(this.cell, ROUND);
      return;
    }
    const waitMs = Atomics.load(this.cell, WAIT_MS);
    const deadline = monotonicMs() + waitMs;
    while (Atomics.load(this.cell, ROUND) === round) {
      const left = deadline - monotonicMs();
      if (left <= 0) {
        throw new CallTimeoutError(`[racers-timeout] a release waited ${waitMs} ms for the other ${racers - 1} racer(s) to read the count; every racer must release the same number of times`);
      }
      Atomics.wait(this.cell, ROUND, round, left);
    }
  }

  [CUSTOM_MARSHAL](): CustomMarshaled {
    return { key: 'non-atomic-count', payload: this.sab, sharedMemory: true };
  }
}

registerValueType('atomic-ref-count', (sab) => new AtomicRefCount(0, sab as SharedArrayBuffer));
registerValueType('non-atomic-count', (sab) => new NonAtomicCount(0, {}, sab as SharedArrayBuffer));

/** A named atomic counter: add() returns the new value; it may go below zero. */
export class AtomicCounter extends SharedCell {
  constructor(sab?: SharedArrayBuffer) {
    super(0, sab);
  }
  add(n = 1): number {
    return Atomics.add(this.cell, 0, n) + n;
  }
  [CUSTOM_MARSHAL](): CustomMarshaled {
    return { key: 'atomic-counter', payload: this.sab, sharedMemory: true };
  }
}

registerValueType('atomic-counter', (sab) => new AtomicCounter(sab as SharedArrayBuffer));
