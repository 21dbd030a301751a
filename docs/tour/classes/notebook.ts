// The rental step's classes. A Notebook is rental: it lives in one apartment at a time, the one
// holding its lease, and moves (its lines carried over) only when no call on it is running. A
// Borrower, in an apartment of its own, leases the Notebook, writes in it directly, and gives it
// back while its last write is still running, so the trace shows the move waiting for that call.
import { currentApartment, lease, traceMark } from 'apartment-runtime';

export class Notebook {
  static threading = 'rental';
  lines: string[] = [];
  /** A call that spans a turn of its thread's event loop: a move in the middle would split it across two lanes. */
  async write(line: string): Promise<number> {
    traceMark('write begin', this.lines.length);
    await new Promise((resolve) => setImmediate(resolve));
    this.lines.push(line);
    traceMark('write end', this.lines.length);
    return this.lines.length;
  }
}

/** What one borrower saw: where it held the Notebook, how many lines it found there, and how many after. */
export interface Borrowed {
  readonly apartment: number;
  readonly found: number;
  readonly left: number;
}

export class Borrower {
  static threading = 'apartment';
  /** Wait for the Notebook's lease, write `writes` lines, and give it back during the last write. */
  async borrow(handle: unknown, writes: number): Promise<Borrowed> {
    if (!Number.isInteger(writes) || writes < 1) throw new Error(`[tour] writes must be a whole number ≥ 1; got ${String(writes)}`);
    // Waiting borrowers queue at the main apartment; a busy machine may keep them there a while.
    const held = await lease<Notebook>(handle, { wait: true, timeoutMs: 300_000 });
    const found = held.value.lines.length;
    traceMark('leased', found);
    for (let i = 1; i < writes; i++) await held.value.write(`line ${found + i}`);
    const last = held.value.write(`line ${found + writes}`);
    // The last write has begun and not ended: release() waits for it before the Notebook moves.
    traceMark('release asked');
    await held.release();
    traceMark('moved out');
    const left = await last;
    return { apartment: currentApartment().id, found, left };
  }
}
