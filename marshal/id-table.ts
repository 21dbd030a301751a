// A table of entries keyed by numeric ids that mostly rise and mostly leave soon after they came:
// calls in flight by call id, calls being served by the caller's call id, running chains by
// causality id, proxies and exports by oid, kept answers. Why not a Map: these tables empty and
// refill on every call, and V8 gives a Map that empties (or fills with deleted entries) a new
// backing table each time, which for a long-lived Map is allocated in old space: 20–54 bytes of
// old-space garbage per call measured on Node 20, 22 and 24, enough to slow every scavenge and
// force mark-compacts in a steady stream of calls. Here an entry sits in a slot picked by the id's
// low bits, or the next free one after it (linear probing, at most half the slots used, deletion
// by shifting the entries behind back), so set and delete allocate nothing once the slots
// suffice. Owner thread only.

/** Slots a new table starts with. */
const MIN_SLOTS = 8;

/** Entries by numeric id; set, get and delete allocate nothing while the slots suffice. */
export class IdTable<T> {
  /** The id in each slot; NaN marks a free slot (no id equals NaN; a NaN id lives in `nanEntry`). */
  private ids = new Float64Array(MIN_SLOTS).fill(NaN);
  private slotValues: (T | undefined)[] = new Array<T | undefined>(MIN_SLOTS).fill(undefined);
  private mask = MIN_SLOTS - 1;
  private inSlots = 0;
  /** The entry of id NaN, which only a hostile peer sends, but which a Map would keep too. */
  private nanEntry: { value: T } | undefined;

  get size(): number {
    return this.inSlots + (this.nanEntry ? 1 : 0);
  }

  get(id: number): T | undefined {
    if (id !== id) return this.nanEntry?.value;
    const i = this.find(id);
    return i < 0 ? undefined : this.slotValues[i];
  }

  has(id: number): boolean {
    return id !== id ? this.nanEntry !== undefined : this.find(id) >= 0;
  }

  set(id: number, value: T): void {
    if (id !== id) {
      this.nanEntry = { value };
      return;
    }
    const { ids, mask } = this;
    let i = id & mask;
    for (;;) {
      const at = ids[i]!;
      if (at === id) {
        this.slotValues[i] = value;
        return;
      }
      if (at !== at) break;
      i = (i + 1) & mask;
    }
    ids[i] = id;
    this.slotValues[i] = value;
    if (++this.inSlots * 2 > ids.length) this.grow();
  }

  /** Remove `id`'s entry; whether there was one. */
  delete(id: number): boolean {
    if (id !== id) {
      const had = this.nanEntry !== undefined;
      this.nanEntry = undefined;
      return had;
    }
    let i = this.find(id);
    if (i < 0) return false;
    const { ids, slotValues, mask } = this;
    // Shift back every entry after the hole whose home slot does not lie between the hole and it,
    // so each entry stays reachable from its home slot without a gap.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const at = ids[j]!;
      if (at !== at) break;
      const home = at & mask;
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (between) continue;
      ids[i] = at;
      slotValues[i] = slotValues[j];
      i = j;
    }
    ids[i] = NaN;
    slotValues[i] = undefined;
    this.inSlots--;
    return true;
  }

  clear(): void {
    this.ids.fill(NaN);
    this.slotValues.fill(undefined);
    this.inSlots = 0;
    this.nanEntry = undefined;
  }

  /** Every entry as [id, value], in no particular order: a snapshot, so the table may change meanwhile. */
  [Symbol.iterator](): IterableIterator<[number, T]> {
    const { ids, slotValues } = this;
    const entries: [number, T][] = [];
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === ids[i]) entries.push([ids[i]!, slotValues[i] as T]);
    }
    if (this.nanEntry) entries.push([NaN, this.nanEntry.value]);
    return entries[Symbol.iterator]();
  }

  /** Every value, in no particular order (as Map.values()): a snapshot, like the entries. */
  values(): IterableIterator<T> {
    return [...this].map(([, value]) => value)[Symbol.iterator]();
  }

  /** The slot holding `id`, or -1. */
  private find(id: number): number {
    const { ids, mask } = this;
    let i = id & mask;
    for (;;) {
      const at = ids[i]!;
      if (at === id) return i;
      if (at !== at) return -1;
      i = (i + 1) & mask;
    }
  }

  /** Twice the slots, every entry placed again. */
  private grow(): void {
    const { ids, slotValues } = this;
    this.ids = new Float64Array(ids.length * 2).fill(NaN);
    this.slotValues = new Array<T | undefined>(ids.length * 2).fill(undefined);
    this.mask = ids.length * 2 - 1;
    this.inSlots = 0;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === ids[i]) this.set(ids[i]!, slotValues[i] as T);
    }
  }
}
