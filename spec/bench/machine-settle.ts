// Before each group of a quiet run (not `--loaded`): wait until the machine's other processes have
// stopped, then hand the spin gate that fresh reading.
//
// Why: the gate's sampler (marshal/transports/machine-load.ts) measures only while the runtime is in
// use and keeps its last figure while it is idle, and a group can end with child processes still
// busy (the process-apartment group's children exit as it closes). The next group then started with
// a stale "a core is busy elsewhere", so its first rows ran with spinning off: in two of three rounds
// of a full run the sequential shared-memory rows (runtime and raw ring alike) measured 16-22 µs
// instead of 4-6. A bench row must measure the runtime, not the tail of the previous group.
import { readFileSync } from 'node:fs';
import { coresBusyElsewhere, MachineLoad, type CpuReading } from '../../marshal/transports/machine-load.js';
import { G_BUSY_ELSEWHERE, threadGate } from '../../marshal/transports/thread-spinner.js';

/** One measuring period, in ms (the kernel counts in ticks of about 10 ms). */
const PERIOD_MS = 300;
/** Consecutive quiet periods that make the machine quiet. */
const QUIET_PERIODS = 2;
/** Longest wait: a neighbour that never stops is reported, not waited for. */
const MAX_WAIT_MS = 20_000;

/** What the wait found: quiet (the gate now says so), still busy after the longest wait, or no reading possible here (not Linux). */
export type MachineState = { state: 'quiet' } | { state: 'busy'; cores: number } | { state: 'unreadable' };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait until other processes keep no core busy for QUIET_PERIODS periods, then publish 0 to this process's spin gate. */
export async function settleMachine(): Promise<MachineState> {
  const load = new MachineLoad((path) => readFileSync(path, 'latin1'));
  const t0 = performance.now();
  let before: CpuReading | undefined = load.read();
  if (before === undefined) return { state: 'unreadable' };
  let quiet = 0;
  let cores = 0;
  while (quiet < QUIET_PERIODS) {
    if (performance.now() - t0 > MAX_WAIT_MS) return { state: 'busy', cores };
    await sleep(PERIOD_MS);
    const after = load.read();
    if (after === undefined) return { state: 'unreadable' };
    cores = coresBusyElsewhere(before, after);
    quiet = cores === 0 ? quiet + 1 : 0;
    before = after;
  }
  // The sampler would publish the same figure after its next two periods of use; until then the
  // gate holds whatever it last measured, however long ago.
  Atomics.store(threadGate(), G_BUSY_ELSEWHERE, 0);
  return { state: 'quiet' };
}
