// How many bytes of unfinished parted messages one node holds for all the sessions other nodes
// opened with it: the node pair's sessions on its main thread, and the sessions of the apartments
// it runs for others, each on a thread of its own. Each session holds at most one message of 64
// MiB, but a node runs sessions for up to 1024 hosts and 256 apartments for each, and nodes are not
// trusted to finish what they start: without a shared bound, hosts that each began a large message
// and never sent its last part could make a node hold terabytes. And without a bound per sender,
// one node that begins a few large messages (its node pair's and its apartments') and never ends
// them holds the whole allowance, and every other node's parted messages fail meanwhile: so each
// sender's sessions together hold at most half of it. The counts live in shared memory, so the main
// thread and every apartment thread take from one allowance and one share per sender. Any thread.

/** Bytes of parts a node holds at once across its sessions. */
export const MAX_REASSEMBLY_BYTES = 256 * 1024 * 1024;
/** The largest limit an allowance takes: its count is an Int32, and a take may add up to 64 MiB. */
const MAX_LIMIT = 2 ** 30;

/** What take() did: took the bytes, or took nothing because the node's allowance or the sender's share of it is used up. */
export type Taking = 'taken' | 'node-full' | 'share-full';

/** Add `bytes` to the count in `cell` unless that passes `limit`; whether it did. */
function addUpTo(cell: Int32Array, bytes: number, limit: number): boolean {
  for (;;) {
    const held = Atomics.load(cell, 0);
    if (held + bytes > limit) return false;
    if (Atomics.compareExchange(cell, 0, held, held + bytes) === held) return true;
  }
}

/** Take `bytes` from the count in `cell`, never below 0. */
function takeDownTo0(cell: Int32Array, bytes: number): void {
  for (;;) {
    const held = Atomics.load(cell, 0);
    if (Atomics.compareExchange(cell, 0, held, Math.max(0, held - bytes)) === held) return;
  }
}

/** A shared allowance that sessions take parts' bytes from, and give back once a message is whole or dropped. */
export class ReassemblyBudget {
  private readonly held: Int32Array;
  private readonly shared: Int32Array | undefined;
  /**
   * The most the sessions of one sender hold together: half the allowance. Half leaves that sender
   * room for two whole messages of the largest size at once (its node pair's and an apartment's,
   * or two apartments'), and leaves every other sender at least as much however long it holds on.
   */
  readonly shareLimit: number;

  /**
   * `memory`: the allowance's count, shared with the other threads' budgets (a new one when left
   * out). `own`: where this budget also counts what it holds, for a thread that may be ended
   * without running another line (worker.terminate()): the thread that ends it gives that back
   * (giveAll). `share`: the count of what the sender's sessions hold, on every thread that runs
   * one of them (none: this budget's takes count against the node's allowance only).
   */
  constructor(readonly memory = new SharedArrayBuffer(4), readonly limit = MAX_REASSEMBLY_BYTES, private readonly own?: Int32Array, readonly share?: SharedArrayBuffer) {
    if (!(limit >= 0 && limit <= MAX_LIMIT)) throw new RangeError(`[reassembly] an allowance of ${limit} bytes does not fit its count; at most ${MAX_LIMIT}`);
    this.held = new Int32Array(memory, 0, 1);
    this.shared = share && new Int32Array(share, 0, 1);
    this.shareLimit = Math.floor(limit / 2);
  }

  /** Take `bytes` for a part; nothing is taken unless it says 'taken'. */
  take(bytes: number): Taking {
    if (this.shared && !addUpTo(this.shared, bytes, this.shareLimit)) return 'share-full';
    if (!addUpTo(this.held, bytes, this.limit)) {
      if (this.shared) Atomics.sub(this.shared, 0, bytes);
      return 'node-full';
    }
    // The shared counts before the own one here, and after it in give(): a thread ended between
    // the steps leaves at most that part counted as held (the allowance a little smaller), never
    // the allowance larger than it is, which a double give would make it.
    if (this.own) Atomics.add(this.own, 0, bytes);
    return 'taken';
  }

  /** Give back `bytes` taken earlier. */
  give(bytes: number): void {
    if (this.own) Atomics.sub(this.own, 0, bytes);
    Atomics.sub(this.held, 0, bytes);
    if (this.shared) Atomics.sub(this.shared, 0, bytes);
  }

  /** Give back all that the budget counting in `own` still held, its thread having ended: to the allowance, and to this budget's share. */
  giveAll(own: Int32Array): void {
    const bytes = Atomics.exchange(own, 0, 0);
    takeDownTo0(this.held, bytes);
    if (this.shared) takeDownTo0(this.shared, bytes);
  }

  /** Bytes held now, by every session sharing the allowance (diagnostics and specs). */
  get bytes(): number {
    return Atomics.load(this.held, 0);
  }

  /** Bytes held now by the sender's sessions that share this budget's share (diagnostics and specs). */
  get shareBytes(): number {
    return this.shared ? Atomics.load(this.shared, 0) : 0;
  }
}
