// The lost decrement: N apartments each release a shared reference count many times. A plain
// read-then-write count loses releases when two threads interleave between its read and its write;
// the atomic one is exact. So that the lesson shows on every run, the plain count is told to force
// the schedule the threading-models document walks through: after its read, each release waits for
// the other apartments to read too, then writes. Run: node dist/docs/demos/lost-decrement/main.js
import { AtomicRefCount, NonAtomicCount, Runtime } from 'apartment-runtime';

const APARTMENTS = 4;
const TIMES = 5_000;

const rt = await Runtime.start({ logger: () => {} });
rt.registerClass('Releaser', { module: new URL('./releaser.js', import.meta.url), export: 'Releaser' });
const releasers = await Promise.all(
  Array.from({ length: APARTMENTS }, async () => (await rt.createApartment()).createObject<{ releaseMany(c: unknown, n: number): Promise<void> }>('Releaser')),
);

const start = APARTMENTS * TIMES;
const plain = new NonAtomicCount(start, { racers: APARTMENTS });
await Promise.all(releasers.map((r) => r.releaseMany(plain, TIMES)));
console.log(`non-atomic count: started at ${start}, released ${start} times, ended at ${plain.value} (${plain.value} releases lost)`);
console.log(`  each release read the count, waited while the other ${APARTMENTS - 1} apartments read the same value, then wrote it minus 1`);

const atomic = new AtomicRefCount(start);
await Promise.all(releasers.map((r) => r.releaseMany(atomic, TIMES)));
console.log(`atomic count:     started at ${start}, released ${start} times, ended at ${atomic.value}`);
await rt.close();
