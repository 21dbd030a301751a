// Call-path cases: the same calls through every subject, side by side in one process run, so the
// ratios to raw postMessage are measured under the same machine load. Each figure is the median of
// 5 runs (3 with --quick), a run's figure being the mean over its calls. The 64 KiB cases do the
// same for every subject: "copied" copies the buffer both ways, "transferred" moves it both ways.
import { coldMicros, medianOf, pipelinedRate, sequentialMicros } from './harness.js';
import { comlink, piscina, rawPostMessage, rawSharedRing, runtime, type Subject } from './subjects.js';

/** One measured figure. */
export interface BenchRow {
  case: string;
  subject: string;
  value: number;
  unit: string;
  /** For rates: higher is better; for times and sizes: lower is better. */
  better: 'higher' | 'lower';
}

const hundredFields = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`field${i}`, i % 3 === 0 ? `v${i}` : i]));

/** Run the call-path cases for every subject. */
export async function benchCallPath(options: { quick: boolean }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const runs = options.quick ? 3 : 5;
  const seq = options.quick ? 2_000 : 5_000;
  const pipe = options.quick ? 20_000 : 100_000;
  const cold = 1_000;
  const starts: (() => Promise<Subject>)[] = [rawPostMessage, () => runtime('port'), () => runtime('shared-memory'), rawSharedRing, comlink, piscina];
  for (const start of starts) {
    const s = await start();
    const row = (c: string, value: number, unit: string, better: 'higher' | 'lower'): void => {
      rows.push({ case: c, subject: s.name, value, unit, better });
    };
    try {
      // The first calls after start, before any warm-up: what a short-lived program sees.
      row(`sequential small call, first ${cold} calls after start (cold, one run)`, await coldMicros(cold, () => s.sum(1, 2)), 'µs/call', 'lower');
      // Warm up each subject to its steady state: optimised code on both threads, and for the
      // shared-memory channel, the spin-or-park choice settled (it adapts to recent wake-ups).
      for (let i = 0; i < 8_000; i++) await s.sum(1, 2);
      row('sequential small call', await medianOf(runs, () => sequentialMicros(seq, () => s.sum(1, 2))), 'µs/call', 'lower');
      for (const depth of [64, 1024]) {
        row(`pipelined small calls, ${depth} in flight`, await medianOf(runs, () => pipelinedRate(pipe, depth, () => s.sum(1, 2))), 'calls/s', 'higher');
      }
      row('100-field object argument, 64 in flight', await medianOf(runs, () => pipelinedRate(pipe / 4, 64, () => s.echo(hundredFields))), 'calls/s', 'higher');
      row('64 KiB buffer copied', await medianOf(runs, () => sequentialMicros(seq / 4, () => s.echo(new ArrayBuffer(65_536)))), 'µs/call', 'lower');
      row('64 KiB buffer transferred', await medianOf(runs, () => sequentialMicros(seq / 4, () => s.echoTransfer(new ArrayBuffer(65_536)))), 'µs/call', 'lower');
    } finally {
      await s.close();
    }
  }
  return rows;
}
