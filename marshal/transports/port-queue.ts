// The items a shared-ring transport received on its companion port ahead of their turn, held in
// sequence order until the ring catches up. Bounded: a well-behaved peer writes every earlier item
// before it posts a later one, but this side may read the port before it drains the ring records
// written earlier, so honest items can wait here — many when most of a burst goes over the port
// (transfers, large values) and this thread is slow; a peer that posts items out of order or
// keeps posting far ahead is refused before their memory adds up. Owner thread only.

/** Items held at most; one more faults the link. */
export const MAX_QUEUED_PORT_ITEMS = 256;

/** Port items ([sequence number, batch]) waiting for their turn. */
export class PortQueue {
  private items: [number, unknown][] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  /** Whether the first item held is item `seq`. */
  isDue(seq: number): boolean {
    return this.head < this.items.length && this.items[this.head]![0] === seq;
  }

  /** Take the first item's batch off the queue. */
  take(): unknown {
    const batch = this.items[this.head++]![1];
    if (this.head === this.items.length) this.clear();
    return batch;
  }

  /** Hold item `seq` (the next one due is `expected`); why it is refused, or undefined when held. */
  add(seq: unknown, batch: unknown, expected: number): string | undefined {
    const last = this.size > 0 ? this.items[this.items.length - 1]![0] : ((expected - 1) | 0);
    if (typeof seq !== 'number' || (seq | 0) !== seq || ((seq - last) | 0) <= 0) {
      return `a port item came out of order (sequence ${String(seq)} after ${last}); the link was faulted — the peer is not a well-behaved shared-ring transport`;
    }
    if (this.size >= MAX_QUEUED_PORT_ITEMS) {
      return `more than ${MAX_QUEUED_PORT_ITEMS} port items arrived ahead of their turn; the link was faulted — the peer skips sequence numbers`;
    }
    this.items.push([seq, batch]);
    return undefined;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
