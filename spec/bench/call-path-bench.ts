// Call-path cases: sequential latency and pipelined throughput of a small add(a, b) through the
// runtime, raw postMessage and comlink, measured side by side in one process run.
import { Runtime } from '../../lib/index.js';
import { startComlink, startRawPostMessage, type Baseline } from './baselines.js';
import { medianOf, pipelinedRate, sequentialMicros } from './harness.js';

/** One measured figure. */
export interface BenchRow {
  case: string;
  subject: string;
  value: number;
  unit: string;
}

const RUNS = 5;

async function startRuntime(): Promise<Baseline> {
  const rt = await Runtime.start();
  rt.registerClass('Adder', { module: new URL('./fixtures/adder.js', import.meta.url), export: 'Adder' });
  const apt = await rt.createApartment({ name: 'bench' });
  const adder = await apt.createObject<{ sum(a: number, b: number): number }>('Adder');
  return { sum: (a, b) => adder.sum(a, b), close: () => rt.close() };
}

/** Run the call-path cases for every subject. */
export async function benchCallPath(options: { quick: boolean }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const seqCount = options.quick ? 1_000 : 5_000;
  const pipeTotal = options.quick ? 20_000 : 100_000;
  const subjects: [string, () => Promise<Baseline>][] = [
    ['raw postMessage', startRawPostMessage],
    ['runtime (port channel)', startRuntime],
    ['comlink', startComlink],
  ];
  for (const [subject, start] of subjects) {
    const s = await start();
    try {
      rows.push({ case: 'sequential small call', subject, unit: 'µs/call', value: await medianOf(RUNS, () => sequentialMicros(seqCount, () => s.sum(1, 2))) });
      for (const depth of [64, 1024]) {
        rows.push({ case: `pipelined, ${depth} in flight`, subject, unit: 'calls/s', value: await medianOf(RUNS, () => pipelinedRate(pipeTotal, depth, () => s.sum(1, 2))) });
      }
    } finally {
      await s.close();
    }
  }
  return rows;
}
