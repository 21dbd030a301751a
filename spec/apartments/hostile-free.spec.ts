import { expect } from 'chai';
import { release } from '../../lib/index.js';
import type { SharedCounter } from '../fixtures/free-classes.js';
import { hostileScene } from '../fixtures/hostile-scene.js';
import { expectNoExports, fixture } from '../fixtures/runtime-fixture.js';

type Async<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never };

// Every free-pool thread serves free.invoke to any apartment: a holder of a free object's
// reference calls it there with the object's payload. A plugin that was handed no free object
// makes payloads up instead, naming the objects by guessed ids, to call another apartment's
// free object on the pool thread that keeps a view of it.

describe('apartments/hostile-free: a free object is reached only through its own payload', () => {
  it('a made-up payload with a guessed id calls nothing of another apartment\'s free object', async () => {
    const s = await hostileScene({ freePoolSize: 2 });
    s.rt.registerClass('SharedCounter', { module: fixture('free-classes.js'), export: 'SharedCounter' });
    const counter = await s.rt.createObject<Async<SharedCounter>>('SharedCounter');
    // Calls on both pool threads, so each keeps a view of it.
    await Promise.all(Array.from({ length: 20 }, () => counter.increment()));
    expect(await counter.get()).to.equal(20);
    const pool = (await s.rt.freePool()).map((a) => a.id);
    for (const thread of pool) {
      for (let n = 1; n <= 10; n++) {
        for (const maker of pool) {
          const payload = { fid: `${maker}.${n}`, className: 'SharedCounter', shared: null, agile: false, pool };
          await s.hostile.control(thread, 'free.invoke', payload, 'increment', []).catch((e: unknown) => e);
        }
      }
    }
    expect(await counter.get(), 'the host\'s counter was not touched').to.equal(20);
    release(counter);
    release(s.hostile);
    await expectNoExports(s.rt);
  });
});
