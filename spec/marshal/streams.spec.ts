import { expect } from 'chai';
import { ReadableStream, WritableStream } from 'node:stream/web';
import {
  ApartmentError, ApartmentFaultedError, CallCanceledError, DisconnectedError, InvalidArgumentError, release, stream, type Runtime,
} from '../../lib/index.js';
import type { Janitor } from '../fixtures/crasher.js';
import type { Holder } from '../fixtures/holder.js';
import type { Streamer } from '../fixtures/stream-classes.js';
import { eventually, expectNoExports, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

async function start(): Promise<Runtime> {
  const { rt } = await startRuntime();
  rt.registerClass('Streamer', { module: fixture('stream-classes.js'), export: 'Streamer' });
  rt.registerClass('Janitor', { module: fixture('crasher.js'), export: 'Janitor' });
  return rt;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}

describe('marshal/streams: an async generator returned from another apartment', () => {
  it('arrives as an async iterable with every item in order, and the producer is closed at the end', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    const items = await streamer.numbers(1000);
    expect(typeof items[Symbol.asyncIterator]).to.equal('function');
    expect(await collect(items)).to.deep.equal(Array.from({ length: 1000 }, (_, i) => i));
    expect(await streamer.closed()).to.equal(1);
    release(streamer);
    await expectNoExports(rt);
  });

  it('brings many items per pull, and the producer runs ahead by at most the window', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    const it = (await streamer.numbers(100, 8))[Symbol.asyncIterator]();
    expect((await it.next()).value).to.equal(0);
    // The first pull asked for a whole window (batched), and nothing more was read before it was consumed.
    const produced = await streamer.produced();
    expect(produced).to.be.greaterThan(1);
    expect(produced).to.be.at.most(8);
    for (let consumed = 1; consumed < 100; consumed++) {
      expect((await it.next()).value).to.equal(consumed);
      if (consumed % 10 === 0) expect((await streamer.produced()) - consumed, `ahead after ${consumed}`).to.be.at.most(8);
    }
    expect((await it.next()).done).to.equal(true);
    release(streamer);
    await expectNoExports(rt);
  });

  it('carries a stream from the main apartment to a worker, which sums it', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    let closed = false;
    async function* local(): AsyncGenerator<number> {
      try {
        for (let i = 1; i <= 500; i++) yield i;
      } finally {
        closed = true;
      }
    }
    expect(await streamer.sum(local())).to.equal(125_250);
    expect(closed).to.equal(true);
    release(streamer);
    await expectNoExports(rt);
  });
});

describe('marshal/streams: cancellation', () => {
  it('stops the producer when the consumer breaks out of for await', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    let n = 0;
    for await (const x of await streamer.numbers(1_000_000, 16)) {
      expect(x).to.equal(n);
      if (++n === 50) break;
    }
    await eventually(async () => {
      expect(await streamer.closed()).to.equal(1);
    });
    expect(await streamer.produced()).to.be.at.most(50 + 16);
    release(streamer);
    await expectNoExports(rt);
  });

  it('lets the consumer break at once while a pull waits for the producer\'s next item', async () => {
    const rt = await start();
    const apt = await rt.createApartment({ defaultTimeoutMs: 60_000 });
    const streamer = await apt.createObject<Streamer>('Streamer');
    const items = await streamer.stalled();
    // The consumer's stop used to queue behind the pull (the producer serves one call at a time),
    // so break took the pull's whole deadline: a minute here.
    const broke = (async () => {
      for await (const x of items) {
        expect(x).to.equal(1);
        await new Promise((r) => setTimeout(r, 50));
        break;
      }
      return 'broke';
    })();
    const guard = new Promise((r) => setTimeout(() => r('still waiting after 20 s'), 20_000).unref());
    expect(await Promise.race([broke, guard])).to.equal('broke');
    expect(await streamer.produced(), 'the producer serves on').to.be.a('number');
    release(streamer);
  });

  it('stops the main apartment\'s generator when the worker consuming it breaks', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    let closed = false;
    let produced = 0;
    async function* endless(): AsyncGenerator<number> {
      try {
        for (;;) yield ++produced;
      } finally {
        closed = true;
      }
    }
    expect(await streamer.sum(endless(), 10)).to.equal(55);
    await eventually(() => {
      expect(closed).to.equal(true);
    });
    release(streamer);
    await expectNoExports(rt);
  });

  it('rejects the consumer\'s next read with CallCanceledError when the producer cancels', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    const it = (await streamer.endless())[Symbol.asyncIterator]();
    expect((await it.next()).value).to.equal(0);
    await streamer.cancel();
    let err: unknown;
    for (let i = 0; i < 100 && err === undefined; i++) await it.next().catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(CallCanceledError);
    expect((err as Error).message).to.match(/^\[stream-canceled\]/);
    expect((await it.next()).done, 'after the error the stream is over').to.equal(true);
    await eventually(async () => {
      expect(await streamer.closed()).to.equal(1);
    });
    release(streamer);
    await expectNoExports(rt);
  });

  it('cancels a ReadableStream from the reader and the producer stops', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    const readable = await streamer.plainReadable(1_000_000);
    expect(readable).to.be.instanceOf(ReadableStream);
    const reader = (readable as unknown as ReadableStream<number>).getReader();
    for (let i = 0; i < 20; i++) expect((await reader.read()).value).to.equal(i);
    await reader.cancel('enough');
    await eventually(async () => {
      expect(await streamer.closed()).to.equal(1);
    });
    release(streamer);
    await expectNoExports(rt);
  });
});

describe('marshal/streams: a consumer reaches only next() and return() of the producer\'s source', () => {
  it('cannot call the source\'s helpers, so the producer\'s signal still stops the stream', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    const it = (await streamer.endless())[Symbol.asyncIterator]();
    expect((await it.next()).value).to.equal(0);
    // What a plugin that dug the source's proxy out of its iterator could call by name.
    const source = (it as unknown as { source: { unlisten(): Promise<unknown> } }).source;
    const reached = await source.unlisten().then(() => 'called', (err: unknown) => (err as Error).constructor.name);
    // Before: the consumer could stop the source listening to the producer's signal, and cancel() no longer stopped it.
    expect(reached).to.equal('NoInterfaceError');
    await streamer.cancel();
    let err: unknown;
    for (let i = 0; i < 100 && err === undefined; i++) await it.next().catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(CallCanceledError);
    release(streamer);
    await expectNoExports(rt);
  });
});

describe('marshal/streams: what stream() takes', () => {
  it('refuses a source that is not read as a stream, and a signal that is no AbortSignal, where they are given', async () => {
    // Before: taken, and the consumer's first read failed in another apartment.
    const gen = async function* (): AsyncGenerator<number> {
      yield 1;
    };
    const bad: [() => unknown, string, RegExp][] = [
      [() => stream(5 as never), 'source', /async iterable/],
      [() => stream([1, 2] as never), 'source', /an array/],
      [() => stream(new WritableStream() as never), 'source', /WritableStream \(pass it as it is/],
      [() => stream(gen(), { signal: {} as AbortSignal }), 'signal', /AbortSignal/],
    ];
    for (const [make, parameter, why] of bad) {
      expect(make, parameter).to.throw(InvalidArgumentError, why);
      try {
        make();
      } catch (err) {
        expect((err as InvalidArgumentError).parameter).to.equal(parameter);
      }
    }
    expect(await collect(stream(gen(), { window: 2 }))).to.deep.equal([1]);
    expect(await collect(stream(new ReadableStream({ start: (c) => { c.enqueue('a'); c.close(); } }) as never))).to.deep.equal(['a']);
  });
});

describe('marshal/streams: failures', () => {
  it('delivers the items before a producer error, then rejects the next read with it', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    const seen: number[] = [];
    const err = await (async () => {
      for await (const x of await streamer.failing(5)) seen.push(x);
    })().catch((e: unknown) => e);
    expect(seen).to.deep.equal([0, 1, 2, 3, 4]);
    expect(err).to.be.instanceOf(RangeError);
    expect((err as Error).message).to.equal('[producer] failed after 5 items');
    release(streamer);
    await expectNoExports(rt);
  });

  it('rejects the next read when the producing apartment dies mid-stream', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    const it = (await streamer.numbers(1_000_000, 4))[Symbol.asyncIterator]();
    expect((await it.next()).value).to.equal(0);
    await apt.terminate();
    let err: unknown;
    for (let i = 0; i < 10 && err === undefined; i++) await it.next().catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(ApartmentError);
    expect(err instanceof ApartmentFaultedError || err instanceof DisconnectedError, String(err)).to.equal(true);
    expect(rt.stats().exports).to.equal(0);
  });

  it('closes the main apartment\'s generator when the apartment holding it closes', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    let closed = false;
    async function* local(): AsyncGenerator<number> {
      try {
        for (;;) yield 1;
      } finally {
        closed = true;
      }
    }
    const gen = local();
    await gen.next();
    await streamer.hold(gen);
    await apt.close();
    await expectNoExports(rt);
    // The generator was suspended at a yield: closing it runs its finally block.
    await eventually(() => {
      expect(closed).to.equal(true);
    });
  });
});

describe('marshal/streams: lifetime', () => {
  it('reclaims an iterator abandoned without return(): the producer closes and its export goes', async () => {
    expect(globalThis.gc, 'specs run with --expose-gc').to.be.a('function');
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    await (async () => {
      const it = (await streamer.numbers(1_000_000, 4))[Symbol.asyncIterator]();
      await it.next();
    })();
    await eventually(async () => {
      globalThis.gc!();
      await new Promise((r) => setTimeout(r, 5));
      expect(await streamer.closed()).to.equal(1);
      expect((await apt.stats()).exports, 'only the streamer is left').to.equal(1);
    }, 10_000);
    release(streamer);
    await expectNoExports(rt);
  });
});

describe('marshal/streams: identity', () => {
  it('arrives as one object when one stream is passed twice, and is released when it is collected there', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const holder = await apt.createObject<Holder>('Holder');
    const janitor = await apt.createObject<Janitor>('Janitor');
    async function* local(): AsyncGenerator<number> {
      yield 1;
    }
    const gen = local();
    expect(await holder.same(gen, gen)).to.equal(true);
    expect(await holder.same(gen, local())).to.equal(false);
    await eventually(async () => {
      expect(await janitor.collect()).to.equal(true);
      expect(rt.stats().exports, 'the main apartment exports no stream').to.equal(0);
    }, 10_000);
    release(holder);
    release(janitor);
    await expectNoExports(rt);
  });
});

describe('marshal/streams: WritableStream', () => {
  it('arrives as a WritableStream whose chunks reach the owner\'s stream in order, and close() closes it', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    const got: number[] = [];
    let closed = false;
    const sink = new WritableStream<number>({
      write: async (x) => {
        got.push(x);
        if (x % 100 === 0) await new Promise((r) => setTimeout(r, 1));
      },
      close: () => {
        closed = true;
      },
    });
    await streamer.writeTo(sink as never, 1000);
    expect(got).to.deep.equal(Array.from({ length: 1000 }, (_, i) => i));
    expect(closed).to.equal(true);
    release(streamer);
    await expectNoExports(rt);
  });
});

/** Hand `sink` to a writer in another apartment that keeps the stream after it fails; nothing may stay exported. */
async function writeToFailingOwner(sink: WritableStream<number>): Promise<void> {
  const rt = await start();
  const apt = await rt.createApartment();
  const streamer = await apt.createObject<Streamer>('Streamer');
  expect(await streamer.writeAndKeep(sink as never, 10)).to.equal('Error');
  release(streamer);
  // Before: the errored stream kept the sink exported from here for as long as the writer held it.
  await expectNoExports(rt);
}

describe('marshal/streams: a WritableStream whose owner\'s stream fails', () => {
  it('gives back the reference to the owner\'s sink, though the writer keeps the errored stream', async () => {
    await writeToFailingOwner(new WritableStream<number>({
      write: () => {
        throw new Error('the disk is full');
      },
    }));
  });

  it('gives back the reference to the owner\'s sink when closing the owner\'s stream fails', async () => {
    await writeToFailingOwner(new WritableStream<number>({
      close: () => {
        throw new Error('the disk is full');
      },
    }));
  });
});

