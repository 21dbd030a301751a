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

/** One pair, made both ways: awaiting the first call's result before the second, and pipelined. */
export interface CallPair {
  twoCalls(): Promise<void>;
  pipelined(): Promise<void>;
}

/** The pair on the bench's factory: makeChild(1), then value() on the child. */
export function factoryPair(factory: Remote<BenchFactory>): CallPair {
  return {
    async twoCalls() {
      const child = await factory.makeChild(1);
      await child.value();
      release(child);
    },
    async pipelined() {
      const child = pipeline(factory).makeChild(1);
      await child.value();
      release(await child);
    },
  };
}

/** The pair case's two rows for `pair`, made over `link` (named in the case). */
export async function pipelinePairRows(pair: CallPair, link: string, pairs: number): Promise<BenchRow[]> {
  const [two, piped] = await alternatingMicros(pairs, [pair.twoCalls, pair.pipelined]);
  const pairCase = `call on a call's result (${link})`;
  return [
    { case: pairCase, subject: 'two sequential calls', value: two!, unit: 'µs/pair', better: 'lower' },
    { case: pairCase, subject: 'pipeline(): both sent at once', value: piped!, unit: 'µs/pair', better: 'lower' },
  ];
}
