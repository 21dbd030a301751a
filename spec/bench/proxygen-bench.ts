// Generated-stub dispatch (typed proxy, calls by index, arguments checked) against the dynamic
// proxy path (calls by name, no checks), same apartment, same transport, one process run.
import { Runtime } from '../../lib/index.js';
import { bindCalcApi } from '../fixtures/proxygen/generated/calc-api.remote.js';
import type { BenchRow } from './call-path-bench.js';
import type { Adder } from './fixtures/adder.js';
import { medianOf, pipelinedRate, sequentialMicros } from './harness.js';

/** Run the generated-vs-dynamic cases. */
export async function benchGeneratedStubs(options: { quick: boolean }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const rt = await Runtime.start({ logger: () => {} });
  try {
    rt.registerClass('Adder', { module: new URL('./fixtures/adder.js', import.meta.url), export: 'Adder' });
    rt.registerClass('CalcImpl', { module: new URL('../fixtures/proxygen/calc-impl.js', import.meta.url), export: 'CalcImpl' });
    const apt = await rt.createApartment();
    const dynamic = await apt.createObject<Adder>('Adder');
    const generated = await bindCalcApi(await apt.createObject('CalcImpl'));
    const subjects: [string, () => Promise<unknown>][] = [
      ['dynamic proxy (by name)', () => dynamic.sum(1, 2)],
      ['generated proxy (by index, checked)', () => generated.add(1, 2)],
    ];
    const n = options.quick ? 2_000 : 5_000;
    for (const [subject, call] of subjects) {
      for (let i = 0; i < 8_000; i++) await call();
      rows.push({ case: 'generated stubs vs dynamic: sequential', subject, value: await medianOf(3, () => sequentialMicros(n, call)), unit: 'µs/call', better: 'lower' });
      rows.push({ case: 'generated stubs vs dynamic: 256 in flight', subject, value: await medianOf(3, () => pipelinedRate(n * 20, 256, call)), unit: 'calls/s', better: 'higher' });
    }
  } finally {
    await rt.close();
  }
  return rows;
}
