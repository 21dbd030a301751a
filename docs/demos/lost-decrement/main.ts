// The lost decrement: N apartments each release a shared reference count many times. A plain
// read-then-write count loses releases when two threads interleave between its read and its write;
// the atomic one is exact. Run: node dist/docs/demos/lost-decrement/main.js
import { AtomicRefCount, NonAtomicCount, Runtime } from 'apartment-runtime';

const APARTMENTS = 4;
const TIMES = 20_000;

const rt = await Runtime.start({ logger: () => {} });
rt.registerClass('Releaser', { module: new URL('./releaser.js', import.meta.url), export: 'Releaser' });
const releasers = await Promise.all(
  Array.from({ length: APARTMENTS }, async () => (await rt.createApartment()).createObject<{ releaseMany(c: unknown, n: number): Promise<void> }>('Releaser')),
);

const start = APARTMENTS * TIMES;
const plain = new NonAtomicCount(start);
await Promise.all(releasers.map((r) => r.releaseMany(plain, TIMES)));
console.log(`non-atomic count: started at ${start}, released ${start} times, ended at ${plain.value} (${plain.value} releases lost)`);

const atomic = new AtomicRefCount(start);
await Promise.all(releasers.map((r) => r.releaseMany(atomic, TIMES)));
console.log(`atomic count:     started at ${start}, released ${start} times, ended at ${atomic.value}`);
await rt.close();
