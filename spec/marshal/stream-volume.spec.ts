// A large logical stream through a slow consumer: the producer never runs more than a window ahead,
// and what either apartment retains stays bounded, far below the stream's size. The default size
// keeps `npm test` short on a shared machine; STREAM_SPEC_BYTES sets another (1073741824 for 1 GiB).
import { expect } from 'chai';
import type { ReadableStream } from 'node:stream/web';
import { release, type Remote, type Runtime } from '../../lib/index.js';
import type { Streamer } from '../fixtures/stream-classes.js';
import { expectNoExports, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

const MiB = 1 << 20;
const TOTAL = Number(process.env['STREAM_SPEC_BYTES'] ?? 64 * MiB);
const CHUNK = 64 * 1024;
const WINDOW = 16;
/** Checkpoints per stream: each asks the producer how far ahead it is and samples memory. */
const CHECK_EVERY = Math.max(16, Math.floor(TOTAL / CHUNK / 64));
/** What either side may retain above its baseline (array buffers are counted per process, and freed lazily): well under the default TOTAL. */
const RETAIN_LIMIT = 32 * MiB;

function retainedHere(): number {
  globalThis.gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

interface Reading {
  bytes: number;
  maxAhead: number;
  peakHere: number;
  peakThere: number;
}

/** Read `next` to the end slowly (one turn of the loop per chunk), checking as it goes. */
async function readSlowly(streamer: Remote<Streamer>, next: () => Promise<Uint8Array | undefined>): Promise<Reading> {
  const baseHere = retainedHere();
  const baseThere = await streamer.retained();
  const r: Reading = { bytes: 0, maxAhead: 0, peakHere: 0, peakThere: 0 };
  for (let i = 0; ; i++) {
    const chunk = await next();
    if (chunk === undefined) break;
    expect(chunk.byteLength).to.equal(CHUNK);
    expect(chunk[0]).to.equal(i & 0xff);
    r.bytes += chunk.byteLength;
    await new Promise((resolve) => setImmediate(resolve));
    if (i % CHECK_EVERY === 0) {
      r.maxAhead = Math.max(r.maxAhead, (await streamer.produced()) - (i + 1));
      r.peakHere = Math.max(r.peakHere, retainedHere() - baseHere);
      r.peakThere = Math.max(r.peakThere, (await streamer.retained()) - baseThere);
    }
  }
  process.stdout.write(`      ${TOTAL / MiB} MiB in ${CHUNK / 1024} KiB chunks: producer at most ${r.maxAhead} ahead; peak retained above baseline ${(r.peakHere / MiB).toFixed(1)} MiB here, ${(r.peakThere / MiB).toFixed(1)} MiB in the producer\n`);
  return r;
}

function expectBounded(r: Reading): void {
  expect(r.bytes).to.equal(Math.ceil(TOTAL / CHUNK) * CHUNK);
  expect(r.maxAhead, 'the producer runs ahead by at most the window').to.be.at.most(WINDOW + 2);
  expect(r.peakHere, 'the consumer retains a bounded amount').to.be.below(RETAIN_LIMIT);
  expect(r.peakThere, 'the producer retains a bounded amount').to.be.below(RETAIN_LIMIT);
}

async function start(): Promise<{ rt: Runtime; streamer: Remote<Streamer> }> {
  expect(globalThis.gc, 'specs run with --expose-gc').to.be.a('function');
  const { rt } = await startRuntime();
  rt.registerClass('Streamer', { module: fixture('stream-classes.js'), export: 'Streamer' });
  const apt = await rt.createApartment({ name: 'producer' });
  return { rt, streamer: await apt.createObject<Streamer>('Streamer') };
}

describe('marshal/streams: a large stream through a slow consumer', () => {
  for (const move of [false, true]) {
    it(`keeps memory bounded through an async iterator (chunks ${move ? 'transferred' : 'copied'})`, async () => {
      const { rt, streamer } = await start();
      const it = (await streamer.chunks(TOTAL, CHUNK, WINDOW, move))[Symbol.asyncIterator]();
      expectBounded(await readSlowly(streamer, async () => {
        const r = await it.next();
        return r.done ? undefined : r.value;
      }));
      release(streamer);
      await expectNoExports(rt);
    });
  }

  it('keeps memory bounded through a ReadableStream', async () => {
    const { rt, streamer } = await start();
    const readable = (await streamer.readable(TOTAL, CHUNK, WINDOW)) as unknown as ReadableStream<Uint8Array>;
    const reader = readable.getReader();
    expectBounded(await readSlowly(streamer, async () => {
      const r = await reader.read();
      return r.done ? undefined : r.value;
    }));
    release(streamer);
    await expectNoExports(rt);
  });
});
