import { expect } from 'chai';
import * as vm from 'node:vm';
import { ProtocolError } from '../../marshal/errors.js';
import { RemoteIterator, type PullSource } from '../../marshal/remote-iterator.js';
import { streamLimits } from '../../marshal/stream-options.js';
import { StreamSource } from '../../marshal/stream-source.js';

describe('marshal/remote-iterator: a producer that answers pulls with nothing, forever', () => {
  it('fails the read with ProtocolError after a few empty batches and tells the producer to stop, instead of pulling without end', async () => {
    let pulls = 0;
    let stopped = 0;
    const source: PullSource = {
      next: () => {
        pulls++;
        return { items: [], done: false };
      },
      return: () => void stopped++,
    };
    const iterator = new RemoteIterator(source, streamLimits({ window: 8 }), 'the producer');
    // Before: the read never settled, and a million pulls a second went out.
    const err = await iterator.next().then(() => undefined, (e: unknown) => e as Error);
    expect(err, String(err)).to.be.instanceOf(ProtocolError);
    expect(err!.message).to.match(/^\[stream\] the producer answered 3 pulls in a row with no items and no end/);
    expect(pulls).to.equal(3);
    await new Promise((r) => setImmediate(r));
    expect(stopped, 'the producer was told to stop').to.equal(1);
    expect(await iterator.next(), 'the stream is over').to.deep.equal({ value: undefined, done: true });
  });

  it('takes one empty batch (a producer cancelled during a pull answers one), then reads on', async () => {
    const answers = [{ items: [], done: false }, { items: [1, 2], done: false }, { items: [], done: true }];
    const source: PullSource = { next: () => answers.shift()!, return: () => undefined };
    const iterator = new RemoteIterator<number>(source, streamLimits({ window: 8 }), 'the producer');
    const got: number[] = [];
    for await (const n of iterator) got.push(n);
    expect(got).to.deep.equal([1, 2]);
  });
});

describe('marshal/remote-iterator: a producer that answers a pull with more bytes than asked', () => {
  it('fails the read with ProtocolError and tells the producer to stop, buffering none of the batch', async () => {
    let asked = 0;
    let stopped = 0;
    const chunk = 'x'.repeat(1024);
    const source: PullSource = {
      next: (_count, maxBytes) => {
        asked = maxBytes;
        return { items: [chunk, chunk, chunk, chunk], done: false };
      },
      return: () => void stopped++,
    };
    const iterator = new RemoteIterator<string>(source, streamLimits({ window: 8, maxBytes: 2048 }), 'the producer');
    const err = await iterator.next().then(() => undefined, (e: unknown) => e as Error);
    expect(asked).to.equal(2048);
    expect(err, String(err)).to.be.instanceOf(ProtocolError);
    expect(err!.message).to.match(/^\[stream\] the producer answered a pull for about 2048 bytes with more items after those bytes/);
    expect(iterator.buffered).to.equal(0);
    await new Promise((r) => setImmediate(r));
    expect(stopped, 'the producer was told to stop').to.equal(1);
  });

  it('takes a batch whose last item passes the bytes asked, as a producer that stops at the bytes sends', async () => {
    const big = 'y'.repeat(4096);
    const answers = [{ items: ['a', big], done: false }, { items: [big], done: true }];
    const source: PullSource = { next: () => answers.shift()!, return: () => undefined };
    const iterator = new RemoteIterator<string>(source, streamLimits({ window: 8, maxBytes: 2048 }), 'the producer');
    const got: string[] = [];
    for await (const s of iterator) got.push(s);
    expect(got).to.deep.equal(['a', big, big]);
  });
});

describe('marshal/remote-iterator: a StreamSource whose items are binary data of another realm', () => {
  it('reads every batch the producer sends, as the producer weighs its ArrayBuffers as the reader does', async () => {
    // ArrayBuffers made in a vm context (a script engine's, say): `instanceof ArrayBuffer` is false
    // there, and they arrive as this realm's after the structured clone.
    const foreign = (): ArrayBuffer => vm.runInNewContext('new ArrayBuffer(600)') as ArrayBuffer;
    async function* produce(): AsyncGenerator<ArrayBuffer> {
      for (let i = 0; i < 3; i++) yield foreign();
    }
    const limits = streamLimits({ window: 8, maxBytes: 1000 });
    const producer = new StreamSource(produce(), limits, undefined);
    const source: PullSource = {
      next: async (count, maxBytes) => structuredClone(await producer.next(count, maxBytes)),
      return: () => producer.return(),
    };
    const iterator = new RemoteIterator<ArrayBuffer>(source, limits, 'the producer');
    const sizes: number[] = [];
    for await (const b of iterator) sizes.push(b.byteLength);
    expect(sizes).to.deep.equal([600, 600, 600]);
  });
});
