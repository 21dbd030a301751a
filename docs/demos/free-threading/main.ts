// The free-threading lesson: a `free` object's calls run on any pool thread, each with its own view.
// Shared memory is shared; an ordinary field is not. Run: node dist/docs/demos/free-threading/main.js
import { Runtime } from 'apartment-runtime';

const rt = await Runtime.start({ freePoolSize: 2, logger: () => {} });
rt.registerClass('TallyCounter', { module: new URL('./tally-counter.js', import.meta.url), export: 'TallyCounter' });

const counter = await rt.createObject<{ count(): Promise<{ shared: number; field: number; thread: number }> }>('TallyCounter');
const results = await Promise.all(Array.from({ length: 40 }, () => counter.count()));
const perThread = new Map<number, number>();
for (const r of results) perThread.set(r.thread, Math.max(perThread.get(r.thread) ?? 0, r.field));

console.log(`40 calls through one handle ran on ${perThread.size} pool threads`);
console.log(`the shared (Atomics) count is ${Math.max(...results.map((r) => r.shared))}`);
for (const [thread, field] of perThread) console.log(`thread ${thread}'s view says its ordinary field is ${field}`);
console.log('the ordinary field diverged: keep a free object\'s state in shared memory, and guard it');
await rt.close();
