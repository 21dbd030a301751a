// The "call on a call's result" case, shared by the link groups that run it: two sequential calls
// (`(await factory.makeChild(1)).value()`) against one pipeline() that sends both at once, measured
// in alternating blocks so a change in the machine's load falls on both alike.
import { pipeline, release, type Remote } from '../../lib/index.js';
import type { BenchRow } from './call-path-bench.js';
import type { BenchFactory } from './fixtures/stream-producer.js';

/**
 * Mean µs per call of each of `fns`, `count` calls each, run in alternating blocks of 100 after a
 * warm-up, so a change in the machine's load falls on every subject alike.
 */
export async function alternatingMicros(count: number, fns: (() => Promise<unknown>)[]): Promise<number[]> {
  for (const fn of fns) for (let i = 0; i < count / 4; i++) await fn();
  const spent = fns.map(() => 0);
  for (let done = 0; done < count; done += 100) {
    for (let f = 0; f < fns.length; f++) {
      const t0 = performance.now();
      for (let i = 0; i < 100; i++) await fns[f]!();
      spent[f]! += performance.now() - t0;
    }
  }
  return spent.map((ms) => (ms * 1000) / count);
}

/** The pair case's two rows for `factory`, reached over `link` (named in the case). */
export async function pipelinePairRows(factory: Remote<BenchFactory>, link: string, pairs: number): Promise<BenchRow[]> {
  const twoCalls = async (): Promise<void> => {
    const child = await factory.makeChild(1);
    await child.value();
    release(child);
  };
  const pipelined = async (): Promise<void> => {
    const child = pipeline(factory).makeChild(1);
    await child.value();
    release(await child);
  };
  const [two, piped] = await alternatingMicros(pairs, [twoCalls, pipelined]);
  const pairCase = `call on a call's result (${link})`;
  return [
    { case: pairCase, subject: 'two sequential calls', value: two!, unit: 'µs/pair', better: 'lower' },
    { case: pairCase, subject: 'pipeline(): both sent at once', value: piped!, unit: 'µs/pair', better: 'lower' },
  ];
}
