// Free threading: a `free` object's calls run on any thread of the pool, several at once, each
// thread with its own view of the object. Shared memory is one for all; an ordinary field is not.
import type { FreeTally } from '../classes/free-tally.js';
import { count, type TourStep } from '../tour-step.js';
import { finishTour, scenarioStart, startTour } from '../tour-runtime.js';

export const freeThreading: TourStep = {
  name: 'free-threading',
  title: 'Free threading: one object, calls on one or two pool threads at once',
  options: {
    threads: { describe: 'threads in the free pool', default: '2', choices: ['1', '2'] },
    rounds: { describe: 'rounds of two calls at once', default: '3' },
  },
  async run(options) {
    const threads = Number(options.threads);
    const rounds = count(options, 'rounds');
    const rt = await startTour({ freePoolSize: threads });
    const tally = await rt.createObject<FreeTally>('FreeTally');
    // Warm the pool up (threads start on first use) outside the scenario.
    await Promise.all([tally.count(-1, false), tally.count(-1, false)]);
    const from = scenarioStart(rt);
    const results: { shared: number; field: number; thread: number }[] = [];
    // Two threads: each pair waits for its partner, proving the two calls run at the same time.
    for (let round = 0; round < rounds; round++) results.push(...(await Promise.all([tally.count(round, threads === 2), tally.count(round, threads === 2)])));
    const trace = await finishTour(rt, from);
    const used = new Set(results.map((r) => r.thread)).size;
    const shared = Math.max(...results.map((r) => r.shared));
    const fields = Math.max(...results.map((r) => r.field));
    return {
      trace,
      facts: { threads, used, shared, fields },
      lesson: `${results.length} calls ran on ${used} pool thread${used === 1 ? '' : 's'}. The shared (Atomics) count reached ${shared} (two warm-up calls included); the ordinary field, one per thread's view, reached at most ${fields}${fields < shared ? ': it diverged, so keep a free object\'s state in shared memory, and guard it' : ': with one thread every call saw the same field'}.`,
    };
  },
};
