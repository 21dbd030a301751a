// What spinning can reach on this machine, measured with nothing of the runtime in the way: two
// threads that both spin on one shared word (workers/spinning-pair.ts) make round trips for a fixed
// time; the transports group's raw postMessage rows, measured in the same round, are what they
// compare with. A trip made while both threads held a core takes well under a microsecond; one
// that waited for a thread to be scheduled again takes a scheduler slice (milliseconds). So the trips under FAST_TRIP_MICROS, and the time they took,
// tell what share of the time both threads ran at once, and what a trip costs then. Quiet, on a
// machine with a core for each, the share is near 100%; beside a CPU-bound process on 2 cores the
// two threads and the neighbour take turns, and any design that needs both threads running for a
// call (a spinning link) can make its calls only in that share: a call whose own work takes c while
// both threads run takes c / share on average. docs/performance.md reads the figures.
import { Worker } from 'node:worker_threads';
import type { BenchRow } from './call-path-bench.js';

/** A trip at least this long waited for a thread to be scheduled (a descheduled thread waits far longer). */
const FAST_TRIP_MICROS = 5;

/** What one spinning run found. */
interface PairRun {
  /** Mean µs per round trip over the whole run. */
  tripMicros: number;
  /** Share of the run's wall time spent in fast trips (both threads running), in %. */
  bothRanPercent: number;
  /** Mean µs of a fast trip. */
  fastTripMicros: number;
}

/** Spin round trips with the pair's worker for `ms` of wall time (this thread blocks meanwhile). */
function spinRoundTrips(words: Int32Array, ms: number): PairRun {
  const fastLimit = FAST_TRIP_MICROS / 1000;
  const start = performance.now();
  let prev = start;
  let trips = 0;
  let fast = 0;
  let fastTime = 0;
  while (prev - start < ms) {
    trips++;
    Atomics.store(words, 0, trips);
    while (Atomics.load(words, 1) !== trips);
    const t = performance.now();
    if (t - prev < fastLimit) {
      fast++;
      fastTime += t - prev;
    }
    prev = t;
  }
  const wall = prev - start;
  return { tripMicros: (wall * 1000) / trips, bothRanPercent: (fastTime / wall) * 100, fastTripMicros: fast === 0 ? NaN : (fastTime * 1000) / fast };
}

/** A spinning pair's round trip, and the share of time both threads of the pair ran. */
export async function benchCoScheduling(options: { quick?: boolean } = {}): Promise<BenchRow[]> {
  const ms = options.quick ? 300 : 1000;
  const words = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(new URL('./workers/spinning-pair.js', import.meta.url), { workerData: words.buffer });
  let run: PairRun;
  try {
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    spinRoundTrips(words, ms / 10);
    run = spinRoundTrips(words, ms);
  } finally {
    Atomics.store(words, 0, -1);
    await worker.terminate();
  }
  return [
    { case: 'spinning pair: sequential round trip, two threads spinning on one word', subject: 'spinning pair', value: run.tripMicros, unit: 'µs', better: 'lower' },
    { case: 'spinning pair: share of the time both threads ran at once', subject: 'spinning pair', value: run.bothRanPercent, unit: '%', better: 'higher' },
    { case: 'spinning pair: a round trip while both threads ran', subject: 'spinning pair', value: run.fastTripMicros, unit: 'µs', better: 'lower' },
  ];
}
