// Reference counts in shared memory. AtomicRefCount is exact under any number of threads; the
// NonAtomicCount exists only to show (in docs/demos/lost-decrement) the lost update that a plain
// read-modify-write suffers — the bug the threading-models document walks through.
import { CUSTOM_MARSHAL, type CustomMarshaled } from '../../marshal/by-ref.js';
import { registerValueType } from '../../marshal/value-types.js';
import { ApartmentError, InvalidArgumentError } from '../errors.js';

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
    return { key: 'atomic-ref-count', payload: this.sab };
  }
}

/** The broken version, for teaching only: read, then write back, with nothing stopping another thread in between. */
export class NonAtomicCount extends SharedCell {
  constructor(initial = 0, sab?: SharedArrayBuffer) {
    super(initial, sab);
  }
  release(): number {
    const read = this.cell[0]!;
    // The window in which another thread's decrement is lost: a little work between read and write.
    for (let i = 0; i < 50; i++) Math.sqrt(i);
    this.cell[0] = read - 1;
    return read - 1;
  }
  [CUSTOM_MARSHAL](): CustomMarshaled {
    return { key: 'non-atomic-count', payload: this.sab };
  }
}

registerValueType('atomic-ref-count', (sab) => new AtomicRefCount(0, sab as SharedArrayBuffer));
registerValueType('non-atomic-count', (sab) => new NonAtomicCount(0, sab as SharedArrayBuffer));

/** A named atomic counter: add() returns the new value; it may go below zero. */
export class AtomicCounter extends SharedCell {
  constructor(sab?: SharedArrayBuffer) {
    super(0, sab);
  }
  add(n = 1): number {
    return Atomics.add(this.cell, 0, n) + n;
  }
  [CUSTOM_MARSHAL](): CustomMarshaled {
    return { key: 'atomic-counter', payload: this.sab };
  }
}

registerValueType('atomic-counter', (sab) => new AtomicCounter(sab as SharedArrayBuffer));
