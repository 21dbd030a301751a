// The containers one encode of the wire encoder has met, so a value that holds the same object
// twice (or a cycle) is refused for the ring: structured clone keeps such identity, the ring's
// encoding does not. Owned by one WireEncoder; not re-entrant.

/** Containers kept in fixed slots and found by linear search up to this count, then in a Set. */
const LINEAR = 16;

/** An identity set for one encode: meet() each container, clear() after the encode. */
export class MetContainers {
  /**
   * The first `count` slots hold what was met: a count, not the array's length, because setting
   * an array's length is a call into V8's runtime (≈ 35 ns, and the encoder emptied it twice an
   * encode). clear() empties the slots so no value outlives its encode here.
   */
  private readonly slots: (object | undefined)[] = new Array<object | undefined>(LINEAR).fill(undefined);
  private count = 0;
  private set: Set<object> | undefined;

  /** Note `o` as met; false if it was met before in this encode. */
  meet(o: object): boolean {
    if (this.set) {
      if (this.set.has(o)) return false;
      this.set.add(o);
      return true;
    }
    const slots = this.slots;
    const count = this.count;
    for (let i = 0; i < count; i++) if (slots[i] === o) return false;
    if (count < LINEAR) {
      slots[count] = o;
      this.count = count + 1;
      return true;
    }
    this.set = new Set(slots as object[]);
    this.set.add(o);
    return true;
  }

  /** Forget everything met (after each encode, refused or not). */
  clear(): void {
    const slots = this.slots;
    for (let i = 0; i < this.count; i++) slots[i] = undefined;
    this.count = 0;
    this.set = undefined;
  }
}
