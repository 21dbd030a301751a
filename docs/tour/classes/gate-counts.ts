// Counters in shared memory that the tour's racing apartments meet at: each counts itself in at a
// slot, and waits until enough others have. They force the worst interleavings a step shows.

/** Wait (without blocking the thread's event loop) until `slot` of `gate` is at least `target`. */
export async function until(gate: Int32Array, slot: number, target: number): Promise<void> {
  for (let seen = Atomics.load(gate, slot); seen < target; seen = Atomics.load(gate, slot)) {
    const wait = Atomics.waitAsync(gate, slot, seen);
    if (wait.async) await wait.value;
  }
}

/** Count one more at `slot` of `gate`, and wake whoever waits there. */
export function count(gate: Int32Array, slot: number): void {
  Atomics.add(gate, slot, 1);
  Atomics.notify(gate, slot);
}
