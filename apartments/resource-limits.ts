// The worker limits an apartment's thread may be started with (Node's ResourceLimits), checked
// before any thread starts, on the host for its own options and on a node for a host's boot
// record. Node hands them to V8 and libuv as they are, and some values end more than the thread:
// a code range of 10^9 MB aborts the whole process ("Failed to reserve virtual memory for
// CodeRange"), a 100 000 MB stack fails the thread's start with a bare EAGAIN, a heap cap under a
// few MB faults the thread before it answers. The ranges hold every real use.
import type { ResourceLimits } from 'node:worker_threads';

/** Each limit's least and largest value, in MB. */
const RANGES: Readonly<Record<keyof ResourceLimits, readonly [number, number]>> = {
  maxOldGenerationSizeMb: [16, 1_048_576],
  maxYoungGenerationSizeMb: [1, 4_096],
  codeRangeSizeMb: [1, 1_024],
  stackSizeMb: [1, 1_024],
};

/** What is wrong with `limits` as an apartment thread's resourceLimits, or undefined when nothing is. */
export function resourceLimitsProblem(limits: unknown): string | undefined {
  if (limits === undefined) return undefined;
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) return 'resourceLimits must be an object of limits in MB';
  for (const [key, value] of Object.entries(limits)) {
    const range = Object.hasOwn(RANGES, key) ? RANGES[key as keyof ResourceLimits] : undefined;
    if (!range) return `resourceLimits.${key.slice(0, 64)} is not a worker limit; use ${Object.keys(RANGES).join(', ')}`;
    if (value === undefined) continue;
    if (typeof value !== 'number' || !(value >= range[0] && value <= range[1])) {
      return `resourceLimits.${key} must be a number of MB from ${range[0]} to ${range[1]}; got ${typeof value === 'number' ? value : typeof value}`;
    }
  }
  return undefined;
}
