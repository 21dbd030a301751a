// Measurement helpers for the benchmark suite: medians over repeated runs, windowed pipelining.

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Run `fn` `runs` times and return the median of its results. */
export async function medianOf(runs: number, fn: () => Promise<number>): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push(await fn());
  return median(out);
}

/** Mean microseconds per call of `count` calls made one after another, after a warm-up of as many. */
export async function sequentialMicros(count: number, call: () => Promise<unknown>): Promise<number> {
  // Steady state: both threads' code optimised (a cold JIT doubles the per-call cost here).
  for (let i = 0; i < count; i++) await call();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await call();
  return ((performance.now() - t0) * 1000) / count;
}

/** Mean microseconds per call of the first `count` calls made one after another, with no warm-up. */
export async function coldMicros(count: number, call: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await call();
  return ((performance.now() - t0) * 1000) / count;
}

/** Calls per second with `depth` calls kept in flight until `total` have completed. */
export function pipelinedRate(total: number, depth: number, call: () => Promise<unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    let started = 0;
    let done = 0;
    const t0 = performance.now();
    const next = (): void => {
      if (started >= total) return;
      started++;
      call().then(() => {
        done++;
        if (done === total) resolve(total / ((performance.now() - t0) / 1000));
        else next();
      }, reject);
    };
    for (let i = 0; i < depth; i++) next();
  });
}
