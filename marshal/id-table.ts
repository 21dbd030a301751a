// A table of entries keyed by numeric ids that mostly rise and mostly leave soon after they came:
// calls in flight by call id, calls being served by the caller's call id, running chains by
// causality id, proxies and exports by oid, kept answers. Why not a Map: these tables empty and
// refill on every call, and V8 gives a Map that empties (or fills with deleted entries) a new
// backing table each time, which for a long-lived Map is allocated in old space: 20–54 bytes of
// old-space garbage per call measured on Node 20, 22 and 24, enough to slow every scavenge and
// force mark-compacts in a steady stream of calls. Here an entry sits in a slot picked by hashing
// the id, or the next free one after it (linear probing, at most half the slots used, deletion by
// shifting the entries behind back), so set and delete allocate nothing once the slots suffice.
// The hash is Fibonacci hashing (the id's low 32 bits times 2^32/φ, top bits): rising ids spread
// over the slots instead of filling one run, since a delete scans the run after its slot. Owner
// thread only.

/** Slots a new table starts with. */
const MIN_SLOTS = 8;
/** 2^32 divided by the golden ratio: multiplying by it scatters consecutive ids. */
const FIBONACCI = 0x9e3779b9;
/**
 * A table larger than this gives slots back once at most an eighth of them are used (to a quarter
 * used, so it does not resize back and forth), so a burst of calls or exports leaves no lasting cost.
 */
const SHRINK_ABOVE = 1024;

/** Entries by numeric id; set, get and delete allocate nothing while the slots suffice. */
export class IdTable<T> {
  /** The id in each slot; NaN marks a free slot (no id equals NaN; a NaN id lives in `nanEntry`). */
  private ids!: Float64Array;
  private slotValues!: (T | undefined)[];
  private mask!: number;
  /** 32 less log2 of the slot count: a hash's top bits pick the home slot. */
  private shift!: number;
  private inSlots!: number;
  /** The entry of id NaN, which only a hostile peer sends, but which a Map would keep too. */
  private nanEntry: { value: T } | undefined;

  constructor() {
    this.allocate(MIN_SLOTS);
  }

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
    let i = this.home(id);
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
    if (++this.inSlots * 2 > ids.length) this.resize(ids.length * 2);
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
    const { ids, slotValues, mask, shift } = this;
    // Shift back every entry after the hole whose home slot does not lie between the hole and it,
    // so each entry stays reachable from its home slot without a gap.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const at = ids[j]!;
      if (at !== at) break;
      const home = Math.imul(at, FIBONACCI) >>> shift;
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (between) continue;
      ids[i] = at;
      slotValues[i] = slotValues[j];
      i = j;
    }
    ids[i] = NaN;
    slotValues[i] = undefined;
    this.inSlots--;
    if (ids.length > SHRINK_ABOVE && this.inSlots * 8 < ids.length) this.resize(Math.max(MIN_SLOTS, 2 ** Math.ceil(Math.log2(this.inSlots * 4 + 1))));
    return true;
  }

  clear(): void {
    this.allocate(MIN_SLOTS);
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

  /** The slot `id` belongs in when it is free (any number hashes: Math.imul takes its low 32 bits). */
  private home(id: number): number {
    return Math.imul(id, FIBONACCI) >>> this.shift;
  }

  /** The slot holding `id`, or -1. */
  private find(id: number): number {
    const { ids, mask } = this;
    let i = this.home(id);
    for (;;) {
      const at = ids[i]!;
      if (at === id) return i;
      if (at !== at) return -1;
      i = (i + 1) & mask;
    }
  }

  /** `slots` slots (a power of two, more than twice the entries), every entry placed again. */
  private resize(slots: number): void {
    const { ids, slotValues } = this;
    this.allocate(slots);
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === ids[i]) this.set(ids[i]!, slotValues[i] as T);
    }
  }

  /** `slots` empty slots (a power of two). */
  private allocate(slots: number): void {
    this.ids = new Float64Array(slots).fill(NaN);
    this.slotValues = new Array<T | undefined>(slots).fill(undefined);
    this.mask = slots - 1;
    this.shift = 32 - Math.log2(slots);
    this.inSlots = 0;
  }
}
