// Streams a user cannot pass: a locked web stream, or something stream() cannot read. The mistake is
// reported where it is made, with the class and a remedy, not by the other apartment's first read.
import { expect } from 'chai';
import { ReadableStream, WritableStream } from 'node:stream/web';
import { InvalidArgumentError, MarshalError, release, stream, type Runtime } from '../../lib/index.js';
import type { Streamer } from '../fixtures/stream-classes.js';
import { expectNoExports, fixture, startRuntime } from '../fixtures/runtime-fixture.js';
import { expectUnknownOption, refusal } from '../fixtures/option-refusals.js';

async function start(): Promise<Runtime> {
  const { rt } = await startRuntime();
  rt.registerClass('Streamer', { module: fixture('stream-classes.js'), export: 'Streamer' });
  return rt;
}

const failure = (p: Promise<unknown>): Promise<Error | undefined> => p.then(() => undefined, (e: unknown) => e as Error);

describe('marshal/streams: a web stream that is locked', () => {
  it('fails the call that passes it with MarshalError naming it, and exports nothing', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const streamer = await apt.createObject<Streamer>('Streamer');
    const readable = ReadableStream.from([1, 2, 3]);
    const reader = readable.getReader();
    // Before: the call went, and the other apartment's first read failed with TypeError 'Invalid state: ReadableStream is locked'.
    const err = await failure(streamer.sum(readable as never));
    expect(err, String(err)).to.be.instanceOf(MarshalError);
    expect(err!.message).to.match(/^\[stream\] the ReadableStream at .+ is locked .*release its reader/);
    const writable = new WritableStream<number>();
    writable.getWriter();
    const werr = await failure(streamer.writeTo(writable as never, 3));
    expect(werr, String(werr)).to.be.instanceOf(MarshalError);
    expect(werr!.message).to.match(/^\[stream\] the WritableStream at .+ is locked/);
    // Released, the same stream passes.
    reader.releaseLock();
    expect(await streamer.sum(readable as never)).to.equal(6);
    release(streamer);
    await expectNoExports(rt);
  });
});

describe('marshal/streams: stream() given what it cannot read', () => {
  it('throws InvalidArgumentError at once for an array, a WritableStream or a locked ReadableStream', () => {
    // Before: stream([1, 2, 3]) was taken, and the consumer's first read failed with
    // TypeError 'this.iterable[Symbol.asyncIterator] is not a function'.
    const cases: [unknown, RegExp][] = [
      [[1, 2, 3], /an array \(wrap it in an async generator/],
      [new WritableStream(), /a WritableStream \(pass it as it is/],
      [42, /got number/],
    ];
    for (const [source, message] of cases) {
      const err = (() => {
        try {
          stream(source as never);
          return undefined;
        } catch (e) {
          return e as Error;
        }
      })();
      expect(err, String(source)).to.be.instanceOf(InvalidArgumentError);
      expect(err!.message).to.match(/^\[stream\] stream\(\) takes an async iterable/);
      expect(err!.message).to.match(message);
    }
    const locked = ReadableStream.from([1]);
    locked.getReader();
    expect(() => stream(locked)).to.throw(InvalidArgumentError, /^\[stream\] the ReadableStream given to stream\(\) is locked/);
  });

  it('throws InvalidArgumentError at once for options that are not an object', () => {
    // Before: null failed with a TypeError reading signal, and a number was taken for no options.
    for (const options of [null, 64]) {
      expect(() => stream(ReadableStream.from([1]), options as never), String(options)).to.throw(InvalidArgumentError, /^\[stream\] stream\(source, options\) takes an options object/);
    }
    // Before: anything but true copied every chunk.
    expect(() => stream(ReadableStream.from([1]), { transfer: 'true' as never })).to.throw(InvalidArgumentError, /^\[stream\] transfer must be true or false/);
  });

  it('throws InvalidArgumentError [unknown-option] at once for a misspelt option, naming the one meant', async () => {
    // Before: ignored, and the stream ran with the default window of 256.
    expectUnknownOption(await refusal(() => stream(ReadableStream.from([1]), { windowSize: 4 } as never)), 'windowSize', 'stream(source, options)', undefined);
    expectUnknownOption(await refusal(() => stream(ReadableStream.from([1]), { maxbytes: 4 } as never)), 'maxbytes', 'stream(source, options)', 'maxBytes');
  });
});
