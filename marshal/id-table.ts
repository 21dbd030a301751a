// A table of entries keyed by numeric ids that mostly rise and mostly leave soon after they came:
// calls in flight by call id, calls being served by the caller's call id, running chains by
// causality id. Why not a Map: a table of calls in flight empties and refills on every call, and
// V8 gives a Map that empties (or fills with deleted entries) a new backing table each time, which
// for a long-lived Map is allocated in old space: 20–54 bytes of old-space garbage per call
// measured on Node 20, 22 and 24, enough to slow every scavenge and force mark-compacts in a
// steady stream of calls. Here an entry sits in a slot picked by the id's low bits; only an id whose
// slot a longer-lived entry still holds goes to a Map on the side. Owner thread only.

/** Slots a new table starts with, and the most it grows to (past that, collisions use the Map). */
const MIN_SLOTS = 8;
const MAX_SLOTS = 1 << 16;

/** Entries by numeric id; set, get and delete allocate nothing while the slots suffice. */
export class IdTable<T> {
  /** The id in each slot; NaN marks a free slot (no id equals NaN; a NaN id lives in `spill`). */
  private ids = new Float64Array(MIN_SLOTS).fill(NaN);
  private values: (T | undefined)[] = new Array<T | undefined>(MIN_SLOTS).fill(undefined);
  private mask = MIN_SLOTS - 1;
  private inSlots = 0;
  /** Entries whose slot was taken when they came (or whose id is NaN). */
  private spill: Map<number, T> | undefined;

  get size(): number {
    return this.inSlots + (this.spill?.size ?? 0);
  }

  get(id: number): T | undefined {
    const i = id & this.mask;
    if (this.ids[i] === id) return this.values[i];
    return this.spill?.get(id);
  }

  has(id: number): boolean {
    return this.ids[id & this.mask] === id || (this.spill?.has(id) ?? false);
  }

  set(id: number, value: T): void {
    let i = id & this.mask;
    if (this.ids[i] === id) {
      this.values[i] = value;
      return;
    }
    if (this.spill?.has(id) || id !== id) {
      (this.spill ??= new Map()).set(id, value);
      return;
    }
    if (this.ids[i] === this.ids[i] && this.inSlots * 2 >= this.ids.length && this.ids.length < MAX_SLOTS) {
      this.grow();
      i = id & this.mask;
    }
    if (this.ids[i] !== this.ids[i]) {
      this.ids[i] = id;
      this.values[i] = value;
      this.inSlots++;
      return;
    }
    (this.spill ??= new Map()).set(id, value);
  }

  /** Remove `id`'s entry; whether there was one. */
  delete(id: number): boolean {
    const i = id & this.mask;
    if (this.ids[i] === id) {
      this.ids[i] = NaN;
      this.values[i] = undefined;
      this.inSlots--;
      return true;
    }
    return this.spill?.delete(id) ?? false;
  }

  clear(): void {
    this.ids.fill(NaN);
    this.values.fill(undefined);
    this.inSlots = 0;
    this.spill = undefined;
  }

  /** Every entry as [id, value], in no particular order; deleting the entry being visited is safe. */
  *[Symbol.iterator](): IterableIterator<[number, T]> {
    const { ids, values } = this;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === ids[i]) yield [ids[i]!, values[i] as T];
    }
    if (this.spill) yield* [...this.spill];
  }

  /** The values, copied (a snapshot to settle or fail them one by one). */
  valuesCopy(): T[] {
    return [...this].map(([, value]) => value);
  }

  /** Twice the slots; no two ids share a slot after (distinct low bits stay distinct). */
  private grow(): void {
    const { ids, values } = this;
    this.ids = new Float64Array(ids.length * 2).fill(NaN);
    this.values = new Array<T | undefined>(ids.length * 2).fill(undefined);
    this.mask = ids.length * 2 - 1;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] !== ids[i]) continue;
      const j = ids[i]! & this.mask;
      this.ids[j] = ids[i]!;
      this.values[j] = values[i];
    }
  }
}
