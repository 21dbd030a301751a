// The free-threading lesson: a `free` object's calls run on any pool thread, each with its own view.
// Shared memory is shared; an ordinary field is not. Run: node dist/docs/demos/free-threading/main.js
import { Runtime } from 'apartment-runtime';
import type { TallyCounter } from './tally-counter.js';

const ROUNDS = 20;
const rt = await Runtime.start({ freePoolSize: 2, logger: () => {} });
rt.registerClass('TallyCounter', { module: new URL('./tally-counter.js', import.meta.url), export: 'TallyCounter' });
const counter = await rt.createObject<TallyCounter>('TallyCounter');

// Each round makes two calls at once; each call waits for the other, so they run on the two pool threads.
const results = [];
for (let round = 0; round < ROUNDS; round++) results.push(...(await Promise.all([counter.countInPairs(round), counter.countInPairs(round)])));

const shared = Math.max(...results.map((r) => r.shared));
const fieldByThread = new Map<number, number>();
for (const r of results) fieldByThread.set(r.thread, Math.max(fieldByThread.get(r.thread) ?? 0, r.field));

console.log(`${results.length} calls through one handle, two at a time, ran on ${fieldByThread.size} pool threads`);
console.log(`the shared (Atomics) count is ${shared}`);
for (const [thread, field] of fieldByThread) console.log(`thread ${thread}'s view counted ${field} calls in its ordinary field`);
if ([...fieldByThread.values()].every((field) => field < shared)) {
  console.log(`the ordinary field diverged: no view saw all ${shared} calls — keep a free object's state in shared memory, and guard it`);
} else {
  console.log('the ordinary field did not diverge: every call ran on one thread');
}
await rt.close();
