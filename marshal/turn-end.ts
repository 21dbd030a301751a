// The runtime's end-of-turn work on a thread (each outbox's flush, the start of the spin loop) runs
// in one microtask per turn, in the order it was asked for. Owner thread only.
//
// Why one: Node's queueMicrotask makes an AsyncResource for each callback, and while async hooks are
// on (AsyncLocalStorage turns them on in an apartment on Node 20 and 22) each one also runs the
// hooks' init, before and after. A call used to cost each side two of them (the reply's flush and
// the spinner's start), ≈ 0.1 µs of a 5-6 µs round trip over shared memory.

import { outsideCalls } from './outside-calls.js';

// The first `dueCount` slots: a count, because setting an array's length calls into the runtime
// (≈ 35 ns a turn on each side of a call). A slot is cleared as its work runs.
const due: ((() => void) | undefined)[] = [];
let dueCount = 0;
let queued = false;
let running = false;
// The work runs outside every async context of the code that asked for it first (a served call's,
// an AsyncLocalStorage of the user's): what it starts, such as the spin loop that goes on to
// deliver other messages, must not inherit that (outside-calls.ts).
const runDueOutsideCalls = (): void => {
  outsideCalls(runDue);
};

function runDue(): void {
  running = true;
  // Work asked for while this runs joins this run (the loop reads the count each time).
  for (let i = 0; i < dueCount; i++) {
    const work = due[i]!;
    due[i] = undefined;
    try {
      work();
    } catch (err) {
      // As from a microtask of its own: uncaught, and the rest still runs.
      queueMicrotask(() => {
        throw err;
      });
    }
  }
  dueCount = 0;
  queued = false;
  running = false;
}

/**
 * Whether `work` is the only end-of-turn work this turn has asked for so far (and none is running):
 * then it may run early without overtaking anything else of the turn (outbox.ts, sendEarly).
 */
export function aloneAtTurnEnd(work: () => void): boolean {
  return queued && !running && dueCount === 1 && due[0] === work;
}

/** Run `work` once this turn's synchronous code is done, in the same microtask as the rest of this turn's. */
export function atTurnEnd(work: () => void): void {
  due[dueCount++] = work;
  if (!queued) {
    queued = true;
    queueMicrotask(runDueOutsideCalls);
  }
}
