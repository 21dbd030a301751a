// A stop that meets a pull still waiting for a quiet producer's next item: the producer's signal,
// or the consumer's break. Either answers the pull at once, instead of leaving it to its deadline.
import { expect } from 'chai';
import { CallCanceledError, release, type Apartment, type Runtime } from '../../lib/index.js';
import type { Streamer } from '../fixtures/stream-classes.js';
import { eventually, expectNoExports, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

async function start(): Promise<Runtime> {
  const { rt } = await startRuntime();
  rt.registerClass('Streamer', { module: fixture('stream-classes.js'), export: 'Streamer' });
  return rt;
}

/** What `read` settles with, or a note that it still waits long after any answer should have come. */
function settledOrStuck(read: Promise<unknown>): Promise<unknown> {
  const guard = new Promise((r) => setTimeout(() => r('still waiting after 20 s'), 20_000).unref());
  return Promise.race([read.then((r) => r, (e: unknown) => e), guard]);
}

/** Wait until the next pull runs in the producer's apartment, waiting for an item that never comes. */
async function pullRunning(apt: Apartment): Promise<void> {
  await eventually(async () => {
    expect((await apt.stats()).runningCalls, 'the pull runs in the producer').to.equal(1);
  }, 10_000);
}

describe('marshal/streams: a stop while a pull waits for a quiet producer', () => {
  it("rejects the consumer's waiting read with CallCanceledError when the producer cancels", async () => {
    const rt = await start();
    const apt = await rt.createApartment({ defaultTimeoutMs: 60_000 });
    const streamer = await apt.createObject<Streamer>('Streamer');
    const it = (await streamer.quiet())[Symbol.asyncIterator]();
    expect((await it.next()).value).to.equal(1);
    const read = it.next();
    await pullRunning(apt);
    await streamer.cancel();
    // Before: the pull kept waiting for the producer's next item, so the read waited out its whole
    // deadline (a minute here, pullTimeoutMs for the quiet producers that option is for).
    const err = await settledOrStuck(read);
    expect(err, String(err)).to.be.instanceOf(CallCanceledError);
    expect((err as Error).message).to.match(/^\[stream-canceled\]/);
    expect((await it.next()).done, 'after the error the stream is over').to.equal(true);
    release(streamer);
    await expectNoExports(rt);
  });

  it('answers the waiting pull when the consumer breaks, so no call is left running in either apartment', async () => {
    const rt = await start();
    const apt = await rt.createApartment({ defaultTimeoutMs: 60_000 });
    const streamer = await apt.createObject<Streamer>('Streamer');
    for await (const x of await streamer.stalled()) {
      expect(x).to.equal(1);
      await pullRunning(apt);
      break;
    }
    // Before: the pull ran on in the producer's apartment, and waited in this one, until its deadline.
    await eventually(async () => {
      expect(rt.stats().pendingCalls, 'calls waiting here').to.equal(0);
      expect((await apt.stats()).runningCalls, 'calls running in the producer').to.equal(0);
    }, 10_000);
    release(streamer);
    await expectNoExports(rt);
  });

  it('lets the consumer break at once while the producer\'s thread is busy with its next item', async () => {
    const rt = await start();
    const apt = await rt.createApartment({ defaultTimeoutMs: 60_000 });
    const streamer = await apt.createObject<Streamer>('Streamer');
    const flag = new Int32Array(new SharedArrayBuffer(12));
    try {
      const items = await streamer.busy(flag);
      const broke = (async () => {
        for await (const x of items) {
          expect(x).to.equal(1);
          Atomics.store(flag, 2, 1);
          await eventually(() => {
            expect(Atomics.load(flag, 1), 'the producer\'s thread is busy').to.equal(1);
          }, 10_000);
          break;
        }
        return 'broke';
      })();
      // Before: break waited for the producer to answer its stop, so for its thread: the call's whole deadline.
      expect(await settledOrStuck(broke)).to.equal('broke');
    } finally {
      Atomics.store(flag, 0, 1);
    }
    expect(await streamer.produced(), 'the producer serves on').to.be.a('number');
    release(streamer);
    await expectNoExports(rt);
  });
});
