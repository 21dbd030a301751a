import { getEventListeners } from 'node:events';
import { expect } from 'chai';
import { StreamSource } from '../../marshal/stream-source.js';
import { streamLimits } from '../../marshal/stream-options.js';

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
