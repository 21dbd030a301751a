// Lock costs: the runtime's SharedMutex (across threads) against async-mutex (one thread only),
// uncontended and contended, in one process run.
import { Mutex } from 'async-mutex';
import { Runtime, SharedMutex, type Remote } from '../../lib/index.js';
import type { BenchRow } from './call-path-bench.js';
import { median } from './harness.js';
import type { Racer } from '../fixtures/shared-state-classes.js';

const ns = (t0: number, n: number): number => ((performance.now() - t0) * 1e6) / n;

/** Run the lock cases. */
export async function benchSharedState(options: { quick: boolean }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const n = options.quick ? 50_000 : 200_000;
  const am = new Mutex();
  const sm = new SharedMutex({ name: 'bench' });

  const asyncMutex = async (): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) (await am.acquire())();
    return ns(t0, n);
  };
  const sharedAsync = async (): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) (await sm.lock()).unlock();
    return ns(t0, n);
  };
  const sharedTry = async (): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) sm.tryLock()!.unlock();
    return ns(t0, n);
  };
  const runs = async (f: () => Promise<number>): Promise<number> => median([await f(), await f(), await f()]);
  rows.push({ case: 'uncontended lock + unlock', subject: 'async-mutex (in-thread)', value: await runs(asyncMutex), unit: 'ns', better: 'lower' });
  rows.push({ case: 'uncontended lock + unlock', subject: 'SharedMutex lock()', value: await runs(sharedAsync), unit: 'ns', better: 'lower' });
  rows.push({ case: 'uncontended lock + unlock', subject: 'SharedMutex tryLock()', value: await runs(sharedTry), unit: 'ns', better: 'lower' });

  // Contended: 4 holders taking turns, each yielding while it holds the lock.
  const rounds = options.quick ? 200 : 1_000;
  const inThread = async (): Promise<number> => {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let i = 0; i < rounds; i++) {
        const release = await am.acquire();
        await new Promise((r) => setImmediate(r));
        release();
      }
    }));
    return ns(t0, rounds * 4);
  };
  rows.push({ case: 'contended, 4 holders yielding inside', subject: 'async-mutex (4 tasks, 1 thread)', value: await inThread(), unit: 'ns/acquisition', better: 'lower' });
  const rt = await Runtime.start({ logger: () => {} });
  try {
    rt.registerClass('Racer', { module: new URL('../fixtures/shared-state-classes.js', import.meta.url), export: 'Racer' });
    const racers: Remote<Racer>[] = [];
    for (let i = 0; i < 4; i++) racers.push(await (await rt.createApartment()).createObject<Racer>('Racer'));
    const cell = new SharedArrayBuffer(4);
    const t0 = performance.now();
    await Promise.all(racers.map((r) => r.hammer(sm, cell, rounds)));
    rows.push({ case: 'contended, 4 holders yielding inside', subject: 'SharedMutex (4 apartments)', value: ns(t0, rounds * 4), unit: 'ns/acquisition', better: 'lower' });
  } finally {
    await rt.close();
  }
  return rows;
}
