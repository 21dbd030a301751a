// One racer of the lost decrement: it releases a count in shared memory `rounds` times, as a plain
// read then write (schedule 'forced' makes every racer read before any writes, each round;
// 'chance' leaves it to the threads), or as one atomic subtraction ('atomic').
import { traceMark } from 'apartment-runtime';

/** Wait until `slot` of `barrier` reaches `target`, after counting this racer in. */
function meet(barrier: Int32Array, slot: number, target: number): void {
  Atomics.add(barrier, slot, 1);
  Atomics.notify(barrier, slot);
  for (let seen = Atomics.load(barrier, slot); seen < target; seen = Atomics.load(barrier, slot)) Atomics.wait(barrier, slot, seen);
}

export class Racer {
  static threading = 'apartment';
  race(count: SharedArrayBuffer, barrier: SharedArrayBuffer, racers: number, rounds: number, schedule: 'forced' | 'chance' | 'atomic'): void {
    const cell = new Int32Array(count);
    const meeting = new Int32Array(barrier);
    for (let round = 1; round <= rounds; round++) {
      if (schedule === 'atomic') {
        traceMark('atomic decrement', Atomics.sub(cell, 0, 1) - 1);
        continue;
      }
      const read = Atomics.load(cell, 0);
      traceMark('read', read);
      if (schedule === 'forced') meet(meeting, 0, racers * round);
      Atomics.store(cell, 0, read - 1);
      traceMark('write', read - 1);
      if (schedule === 'forced') meet(meeting, 1, racers * round);
    }
  }
}
