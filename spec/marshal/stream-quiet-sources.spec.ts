// A consumer that stops reading a quiet stream source (a socket with nothing more to say): the
// producer's stream is cancelled or destroyed now, not when its next chunk comes, which may be never.
import { expect } from 'chai';
import type { ReadableStream } from 'node:stream/web';
import { release, type Runtime } from '../../lib/index.js';
import type { Streamer } from '../fixtures/stream-classes.js';
import { eventually, expectNoExports, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

async function start(): Promise<Runtime> {
  const { rt } = await startRuntime();
  rt.registerClass('Streamer', { module: fixture('stream-classes.js'), export: 'Streamer' });
  return rt;
}

describe('marshal/streams: a consumer stops reading a quiet stream', () => {
  it("cancels the producer's web ReadableStream while a read waits for its next chunk", async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    const reader = ((await streamer.quietReadable()) as unknown as ReadableStream<number>).getReader();
    expect((await reader.read()).value).to.equal(1);
    await reader.cancel('enough');
    // Before: the source's async iterator held the cancel back until the pending read got a chunk: never.
    await eventually(async () => {
      expect(await streamer.closed(), "the producer's stream was cancelled").to.equal(1);
    }, 10_000);
    release(streamer);
    await expectNoExports(rt);
  });

  it("destroys the producer's Node Readable when the consumer breaks while a read waits for its next chunk", async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    for await (const x of await streamer.quietNodeReadable()) {
      expect(x).to.equal(1);
      break;
    }
    await eventually(async () => {
      expect(await streamer.closed(), "the producer's stream was destroyed").to.equal(1);
    }, 10_000);
    release(streamer);
    await expectNoExports(rt);
  });
});
