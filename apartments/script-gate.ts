// The script gate: shared memory between an apartment's thread and the main thread that says which
// script run, if any, may be interrupted now. The main thread's inspector can stop a thread's
// JavaScript, but its stop lands wherever the thread is when the message arrives; the gate makes it
// land only in a script run. The main thread claims the run first, and a run that ends while claimed
// does not leave its turn until the stop has landed (or the main thread releases the claim), so the
// stop never reaches the runtime's own code after the run: not its channel handlers, and not a promise
// reaction whose async-hook bookkeeping it would leave unbalanced (which aborts a thread with async
// hooks on). Scripts run in turns of their own, with no async scope entered around them, so a stop
// landing there unwinds to the event loop with Node's async-id stack as it found it.

/** Bytes of one apartment's gate. */
export const SCRIPT_GATE_BYTES = 32;
/** Index of the running run's token: 0 none, CLAIMED once the main thread claimed it for a stop. */
const RUN = 0;
/** Index of the counter the run tokens come from. */
const COUNTER = 1;
/** Index of the object id of the engine whose run it is. */
const ENGINE = 2;
/** Index of the four words of the running engine's grant (the 128 bits of its export's grant). */
const GRANT = 3;
const CLAIMED = -1;
/** How long a claimed run's turn sleeps between looks at its gate while it waits for the stop. */
const CLAIMED_POLL_MS = 50;

/** Apartment thread: the token of the next run, not yet on the gate (enterRun puts it there). */
export function nextRun(gate: Int32Array): number {
  return (Atomics.add(gate, COUNTER, 1) + 1) & 0x7fffffff || 1;
}

/**
 * Apartment thread: run `run` of engine `oid` starts, and may be stopped from now on: whatever must
 * settle its call once a stop lands is recorded before this. `grant` is the engine's export grant,
 * which every holder of a reference to it has (and only they): a requester other than the main
 * apartment shows it to interrupt the run.
 */
export function enterRun(gate: Int32Array, run: number, oid: number, grant: string | undefined): void {
  Atomics.store(gate, ENGINE, oid);
  const words = grantWords(grant) ?? [0, 0, 0, 0];
  words.forEach((word, i) => Atomics.store(gate, GRANT + i, word));
  Atomics.store(gate, RUN, run);
}

/**
 * Apartment thread: run `run` ended on its own. When the main thread claimed it, a stop is on its
 * way: wait for it here, inside the run's turn, where it can only end this turn. Returns only if the
 * claim was released without a stop landing: the stop was dispatched in this turn but Node cancelled
 * it because the run's own time limit struck too (the main thread releases the claim once the stop
 * is dispatched), or the stop could not be sent.
 */
export function leaveRun(gate: Int32Array, run: number): void {
  // A claim given back (unclaimRun) restores the run's token: end the run then as if never claimed.
  // Atomics.wait wakes for the stop's interrupt; the timeout only bounds each sleep.
  while (Atomics.compareExchange(gate, RUN, run, 0) === CLAIMED) Atomics.wait(gate, RUN, CLAIMED, CLAIMED_POLL_MS);
}

/**
 * Apartment thread: run `run` calls out of the script into host code, where a stop must not land (it
 * could leave Node's own state, its timer lists say, half updated). Takes the run off the gate, first
 * waiting, as leaveRun does, for a stop already on its way. True if the run was on the gate and is
 * now off it (resumeRun puts it back); false if it was not: the run of a turn a stop ended, met
 * again from a later microtask, or a claim released without a stop.
 */
export function pauseRun(gate: Int32Array, run: number): boolean {
  for (;;) {
    const was = Atomics.compareExchange(gate, RUN, run, 0);
    if (was === run) return true;
    if (was !== CLAIMED) return false;
    Atomics.wait(gate, RUN, CLAIMED, CLAIMED_POLL_MS);
  }
}

/** Apartment thread: the host code that run `run` called returned to the script; it may be stopped again. */
export function resumeRun(gate: Int32Array, run: number): void {
  Atomics.store(gate, RUN, run);
}

/** Apartment thread: an interrupted run was settled; its claim is spent. */
export function clearClaim(gate: Int32Array): void {
  Atomics.compareExchange(gate, RUN, CLAIMED, 0);
}

/** Main thread: the run of engine `oid` going on now, or undefined. */
export function runningRun(gate: Int32Array, oid: number): number | undefined {
  const run = Atomics.load(gate, RUN);
  if (run <= 0) return undefined;
  // A token is never reused, so the engine read after it belongs to it if the claim then succeeds.
  return Atomics.load(gate, ENGINE) === oid ? run : undefined;
}

/** Main thread: claim run `run` for a stop; false if it has ended already. */
export function claimRun(gate: Int32Array, run: number): boolean {
  return Atomics.compareExchange(gate, RUN, run, CLAIMED) === run;
}

/**
 * Main thread: whether `grant` is the grant of the engine whose run it claimed (read after the claim:
 * no other run can start before the claim is released).
 */
export function claimedRunGranted(gate: Int32Array, grant: string): boolean {
  const words = grantWords(grant);
  return words !== undefined && words.every((word, i) => Atomics.load(gate, GRANT + i) === word);
}

/** A grant (32 hex digits, marshal/random-ids.ts) as four 32-bit words; undefined for anything else. */
function grantWords(grant: string | undefined): number[] | undefined {
  const hex = grant ?? '';
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  return [0, 1, 2, 3].map((i) => Number.parseInt(hex.slice(i * 8, i * 8 + 8), 16) | 0);
}

/** Main thread: give claimed run `run` back without stopping it (the requester may not). */
export function unclaimRun(gate: Int32Array, run: number): void {
  if (Atomics.compareExchange(gate, RUN, CLAIMED, run) === CLAIMED) Atomics.notify(gate, RUN);
}

/** Main thread: the stop of a claimed run completed (or was never sent): let a run still waiting go on. */
export function releaseClaim(gate: Int32Array): void {
  if (Atomics.compareExchange(gate, RUN, CLAIMED, 0) === CLAIMED) Atomics.notify(gate, RUN);
}
