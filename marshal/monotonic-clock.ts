// The runtime's clock for deadlines, spin budgets and probe periods: milliseconds on the process's
// monotonic clock (process.hrtime), one clock for every thread of the process.
//
// Why not performance.now(): the first touch of the `performance` global loads perf_hooks into the
// thread, 1.1-2.3 ms of a worker apartment's start on Node 20-24 (docs/performance.md, 2026-12-06,
// night), and a reading costs the same either way (55-97 ns). performance.now() also counts from
// each thread's own start, so two threads' readings compare only with timeOrigin added; these
// compare as they are.

/** Milliseconds, monotonic, from an arbitrary start that every thread of the process shares. */
export function monotonicMs(): number {
  const t = process.hrtime();
  return t[0] * 1e3 + t[1] / 1e6;
}
