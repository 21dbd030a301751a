// How many bytes of unfinished parted messages one node holds for all the sessions other nodes
// opened with it: the node pair's sessions on its main thread, and the sessions of the apartments
// it runs for others, each on a thread of its own. Each session holds at most one message of 64
// MiB, but a node runs sessions for up to 1024 hosts and 256 apartments for each, and nodes are not
// trusted to finish what they start: without a shared bound, hosts that each began a large message
// and never sent its last part could make a node hold terabytes. The count lives in shared memory,
// so the main thread and every apartment thread take from one allowance. Any thread.

/** Bytes of parts a node holds at once across its sessions. */
export const MAX_REASSEMBLY_BYTES = 256 * 1024 * 1024;
/** The largest limit an allowance takes: its count is an Int32, and a take may add up to 64 MiB. */
const MAX_LIMIT = 2 ** 30;

/** A shared allowance that sessions take parts' bytes from, and give back once a message is whole or dropped. */
export class ReassemblyBudget {
  private readonly held: Int32Array;

  /**
   * `memory`: the allowance's count, shared with the other threads' budgets (a new one when left
   * out). `own`: where this budget also counts what it holds, for a thread that may be ended
   * without running another line (worker.terminate()): the thread that ends it gives that back
   * (giveAll).
   */
  constructor(readonly memory = new SharedArrayBuffer(4), readonly limit = MAX_REASSEMBLY_BYTES, private readonly own?: Int32Array) {
    if (!(limit >= 0 && limit <= MAX_LIMIT)) throw new RangeError(`[reassembly] an allowance of ${limit} bytes does not fit its count; at most ${MAX_LIMIT}`);
    this.held = new Int32Array(memory, 0, 1);
  }

  /** Take `bytes` for a part; false (nothing taken) when that would pass the limit. */
  take(bytes: number): boolean {
    for (;;) {
      const held = Atomics.load(this.held, 0);
      if (held + bytes > this.limit) return false;
      if (Atomics.compareExchange(this.held, 0, held, held + bytes) === held) break;
    }
    // The shared count before the own one here, and after it in give(): a thread ended between
    // the two steps leaves at most that part counted as held (the allowance a little smaller),
    // never the allowance larger than it is, which a double give would make it.
    if (this.own) Atomics.add(this.own, 0, bytes);
    return true;
  }

  /** Give back `bytes` taken earlier. */
  give(bytes: number): void {
    if (this.own) Atomics.sub(this.own, 0, bytes);
    Atomics.sub(this.held, 0, bytes);
  }

  /** Give back all that the budget counting in `own` still held, its thread having ended. */
  giveAll(own: Int32Array): void {
    const bytes = Atomics.exchange(own, 0, 0);
    for (;;) {
      const held = Atomics.load(this.held, 0);
      if (Atomics.compareExchange(this.held, 0, held, Math.max(0, held - bytes)) === held) return;
    }
  }

  /** Bytes held now, by every session sharing the allowance (diagnostics and specs). */
  get bytes(): number {
    return Atomics.load(this.held, 0);
  }
}
