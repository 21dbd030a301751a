// The `--loaded` bench mode's neighbour: a CPU-bound process beside the bench, as a plugin host's
// machine rarely is idle. One process spinning on one core is what the developers' loaded figures
// were measured against; it starts before the first round and is killed when the bench ends.
import { spawn, type ChildProcess } from 'node:child_process';

/** A running CPU-bound neighbour process; stop() kills it (also done on exit). */
export interface CpuLoad {
  readonly pid: number | undefined;
  stop(): void;
}

// Spins, and every 100 ms checks that the bench still runs: a bench killed by a signal runs no
// exit handler, and its neighbour must not spin on for good (an orphan's parent id changes).
const SPIN_UNTIL_ORPHANED = 'const parent = process.ppid; for (;;) { const t = Date.now(); while (Date.now() - t < 100); if (process.ppid !== parent) process.exit(0); }';

/** Start `count` processes that each spin one core until stopped. */
export function startCpuLoad(count: number): CpuLoad[] {
  return Array.from({ length: count }, () => {
    const child: ChildProcess = spawn(process.execPath, ['-e', SPIN_UNTIL_ORPHANED], { stdio: 'ignore' });
    const stop = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    process.once('exit', stop);
    return { pid: child.pid, stop };
  });
}
