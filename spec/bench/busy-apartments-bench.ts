// 8 apartments kept busy by the host on a machine with fewer cores: the shared-memory channel's
// spinning must back off, so its total may not fall below the port channel's. Measured twice: with
// trivial calls (the channel is the work) and with a fixed amount of CPU work per call (the threads
// compete for cores, so spinning that did not back off would take CPU from the work).
import { availableParallelism } from 'node:os';
import type { Remote } from '../../lib/index.js';
import type { BenchRow } from './call-path-bench.js';
import type { Adder } from './fixtures/adder.js';
import { medianOf, pipelinedRate } from './harness.js';
import { startAdderRuntime } from './subjects.js';

/** xorshift rounds per call in the CPU-work variant: some tens of µs on one core. */
const WORK_ROUNDS = 20_000;

export async function benchBusyApartments(options: { quick: boolean }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const cores = availableParallelism();
  const runs = options.quick ? 2 : 3;
  for (const transport of ['port', 'shared-memory'] as const) {
    const subject = `runtime (${transport === 'port' ? 'port channel' : 'shared memory'})`;
    const rt = await startAdderRuntime(transport);
    try {
      const adders: Remote<Adder>[] = [];
      for (let i = 0; i < 8; i++) adders.push(await (await rt.createApartment()).createObject<Adder>('Adder'));
      let i = 0;
      const trivial = await medianOf(runs, () => pipelinedRate(options.quick ? 40_000 : 160_000, 512, () => adders[i++ & 7]!.sum(1, 2)));
      rows.push({ case: `8 busy apartments on ${cores} cores, trivial calls (sum), total`, subject, value: trivial, unit: 'calls/s', better: 'higher' });
      await Promise.all(adders.map((a) => a.work(WORK_ROUNDS)));
      const working = await medianOf(runs, () => pipelinedRate(options.quick ? 5_000 : 20_000, 512, () => adders[i++ & 7]!.work(WORK_ROUNDS)));
      rows.push({ case: `8 busy apartments on ${cores} cores, CPU work per call (${WORK_ROUNDS / 1000}k xorshift rounds), total`, subject, value: working, unit: 'calls/s', better: 'higher' });
    } finally {
      await rt.close();
    }
  }
  return rows;
}
