// A stream whose reference the sender gives back unsent (the call failed to go, or the codec walked
// the value again after a recount) reached nobody: its producer is not closed, and it can be passed.
import { expect } from 'chai';
import { WritableStream } from 'node:stream/web';
import { MarshalError, release, type Runtime } from '../../lib/index.js';
import type { Streamer } from '../fixtures/stream-classes.js';
import { expectNoExports, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

async function start(): Promise<Runtime> {
  const { rt } = await startRuntime();
  rt.registerClass('Streamer', { module: fixture('stream-classes.js'), export: 'Streamer' });
  return rt;
}

/** Three numbers, and whether the generator was closed (its finally ran). */
function three(): { gen: AsyncGenerator<number>; closed: () => boolean } {
  let closed = false;
  const gen = (async function* () {
    try {
      for (let i = 1; i <= 3; i++) yield i;
    } finally {
      closed = true;
    }
  })();
  return { gen, closed: () => closed };
}

describe('marshal/streams: a stream whose reference was given back unsent', () => {
  it('arrives whole when the value beside it is walked again after a count that held repeats', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    // One small record held 600 times: walked loose, its string counts 600 MiB, over the copy limit,
    // so the codec walks the call again counting it once (small-containers.ts).
    const record = { note: 'x'.repeat(1 << 20) };
    const beside = Array.from({ length: 600 }, () => record);
    // Before: the first walk's give-back closed the stream's source, and the call carried an empty stream: 0.
    expect(await streamer.sum(three().gen, beside as never)).to.equal(6);
    release(streamer);
    await expectNoExports(rt);
  });

  it('can be passed again after a call that failed to send it, and its producer was not closed meanwhile', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    const { gen, closed } = three();
    const err = await streamer.sum(gen, Promise.resolve(1) as never).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(MarshalError);
    expect(closed(), 'nobody got the stream: its producer is still open').to.equal(false);
    // Before: the stream arrived empty (0), read by nobody.
    expect(await streamer.sum(gen)).to.equal(6);
    expect(closed()).to.equal(true);
    const got: number[] = [];
    const sink = new WritableStream<number>({ write: (x) => void got.push(x) });
    const werr = await streamer.writeTo(sink as never, 3, Promise.resolve(1) as never).then(() => undefined, (e: unknown) => e);
    expect(werr).to.be.instanceOf(MarshalError);
    // Before: the failed send aborted the owner's stream ([stream-abandoned]), and the writes were refused.
    await streamer.writeTo(sink as never, 3);
    expect(got).to.deep.equal([0, 1, 2]);
    release(streamer);
    await expectNoExports(rt);
  });
});
