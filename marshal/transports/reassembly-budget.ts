// How many bytes of unfinished parted messages one node holds for all the sessions other nodes
// opened with it. Each session already holds at most one message of 64 MiB, but a node runs
// sessions for up to 1024 hosts, and nodes are not trusted to finish what they start: without a
// shared bound, hosts that each began a large message and never sent its last part could make a
// node hold 64 GiB. Main thread only (the node's sessions all live there).

/** Bytes of parts a node holds at once across its sessions. */
export const MAX_REASSEMBLY_BYTES = 256 * 1024 * 1024;

/** A shared allowance that sessions take parts' bytes from, and give back once a message is whole or dropped. */
export class ReassemblyBudget {
  private held = 0;

  constructor(readonly limit = MAX_REASSEMBLY_BYTES) {}

  /** Take `bytes` for a part; false (nothing taken) when that would pass the limit. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.limit) return false;
    this.held += bytes;
    return true;
  }

  /** Give back `bytes` taken earlier. */
  give(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }

  /** Bytes held now (diagnostics and specs). */
  get bytes(): number {
    return this.held;
  }
}
