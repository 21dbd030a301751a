import { getEventListeners } from 'node:events';
import { expect } from 'chai';
import { WritableStream } from 'node:stream/web';
import { ProtocolError } from '../../marshal/errors.js';
import { StreamSink } from '../../marshal/remote-writable.js';
import { StreamSource } from '../../marshal/stream-source.js';
import { streamLimits } from '../../marshal/stream-options.js';
import { STREAM_KEY } from '../../marshal/streams.js';
import { valueType } from '../../marshal/value-types.js';

async function* three(): AsyncGenerator<number> {
  yield 1;
  yield 2;
  yield 3;
}

describe('marshal/stream-source: a source lets go of its producer\'s signal when it ends', () => {
  it('stops listening once it answered the last batch, or once the consumer stopped it', async () => {
    // One signal for a producer's whole life, many streams: before, each ended source stayed
    // listening to it, and so stayed alive with its iterable.
    const signal = new AbortController().signal;
    const finished = new StreamSource(three(), streamLimits({ window: 8 }), signal);
    const stopped = new StreamSource(three(), streamLimits({ window: 8 }), signal);
    expect(getEventListeners(signal, 'abort')).to.have.length(2);
    expect(await finished.next(8, 1_000)).to.deep.equal({ items: [1, 2, 3], done: true });
    stopped.return();
    expect(getEventListeners(signal, 'abort')).to.have.length(0);
  });
});

describe('marshal/streams: a stream payload whose end came home as the other kind', () => {
  it('is refused with ProtocolError on arrival, not by a TypeError at its first read or write', () => {
    const rebuild = valueType(STREAM_KEY)!;
    const limits = streamLimits({ window: 8 });
    const source = new StreamSource(three(), limits, undefined);
    const sink = new StreamSink(new WritableStream(), limits);
    // What a hostile peer may send: a reference to this apartment's own source or sink, under the wrong kind.
    for (const [kind, end] of [['writable', source], ['iterable', sink], ['readable', sink]] as const) {
      expect(() => rebuild({ kind, end, window: 8, maxBytes: 1024 }), kind).to.throw(ProtocolError, /^\[stream\] a stream arrived without a reference to its producer/);
    }
    source.return();
  });
});
