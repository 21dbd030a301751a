import { expect } from 'chai';
import { WritableStream } from 'node:stream/web';
import { CallRejectedError } from '../../marshal/errors.js';
import { remoteWritable, StreamSink, type PushTarget } from '../../marshal/remote-writable.js';
import { streamLimits } from '../../marshal/stream-options.js';

/** A writing side's target whose owner answers only when told: what it was sent, and its answers. */
function heldTarget(): { target: PushTarget; batches: unknown[][]; answer(error?: Error): void } {
  const batches: unknown[][] = [];
  const answers: ((error?: Error) => void)[] = [];
  return {
    batches,
    answer: (error) => answers.shift()?.(error),
    target: {
      write: (items) => {
        batches.push(items);
        return new Promise<void>((resolve, reject) => answers.push((error) => (error ? reject(error) : resolve())));
      },
      close: async () => undefined,
      abort: async () => undefined,
    },
  };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('marshal/remote-writable: a writer of one chunk a turn waits while two batches are on their way', () => {
  it('holds a chunk back while two batches wait for the owner, instead of queueing every chunk', async () => {
    const { target, batches, answer } = heldTarget();
    const writer = remoteWritable(target, streamLimits({ window: 16 })).getWriter();
    const done: boolean[] = [];
    const written: Promise<void>[] = [];
    for (let i = 0; i < 6; i++) {
      const at = i;
      written.push(writer.write(i).then(() => void (done[at] = true)));
      await nextTurn();
    }
    // Before: every write was taken at once, each turn's chunk a batch more for the owner.
    expect(done.filter(Boolean).length, 'chunks for two batches taken (one being written, one behind it), the rest waiting').to.be.lessThan(6);
    expect(batches, 'the owner was sent the first batch only').to.have.length(1);
    for (let turns = 0; batches.flat().length < 6 && turns < 1_000; turns++) {
      answer();
      await nextTurn();
    }
    answer();
    await Promise.all(written);
    expect(batches.flat(), 'once answered, every chunk went, in order').to.deep.equal([0, 1, 2, 3, 4, 5]);
  });

  it('sends nothing after a batch the owner refused, and fails the writer with its error', async () => {
    const { target, batches, answer } = heldTarget();
    const writer = remoteWritable(target, streamLimits({ window: 16 })).getWriter();
    void writer.write('a').catch(() => undefined);
    await nextTurn();
    await nextTurn();
    expect(batches).to.deep.equal([['a']]);
    // A batch of its own behind the one the owner is writing.
    void writer.write('b').catch(() => undefined);
    await nextTurn();
    await nextTurn();
    answer(new Error('the owner\'s stream broke'));
    await nextTurn();
    const err = await writer.write('c').then(() => undefined, (e: unknown) => e as Error);
    expect(String(err)).to.contain("the owner's stream broke");
    expect(batches, 'the batch after the refused one was not sent').to.deep.equal([['a']]);
  });
});

describe("marshal/remote-writable: the owner's side of a batch whose stream fails", () => {
  it('fails the batch with the first error and leaves no write of it unhandled', async () => {
    const unhandled: unknown[] = [];
    const note = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', note);
    try {
      const sink = new StreamSink(new WritableStream<unknown>({
        write: () => {
          throw new Error('the disk is full');
        },
      }) as never, streamLimits({ window: 16 }));
      let failure: unknown;
      await sink.write([1, 2, 3]).catch((err: unknown) => (failure = err));
      expect((failure as Error)?.message).to.equal('the disk is full');
      // Unhandled rejections are reported after the turn that left them.
      await nextTurn();
      await nextTurn();
      expect(unhandled, 'rejections nobody handled').to.deep.equal([]);
    } finally {
      process.off('unhandledRejection', note);
    }
  });
});

describe("marshal/remote-writable: the owner's side of a stream written after it was closed", () => {
  it('refuses the batch with CallRejectedError [stream-closed] and writes nothing', async () => {
    const written: unknown[] = [];
    const sink = new StreamSink(new WritableStream<unknown>({ write: (chunk) => {
      written.push(chunk);
    } }) as never, streamLimits({ window: 16 }));
    await sink.write([1]);
    await sink.close();
    const failure = await sink.write([2]).catch((err: unknown) => err);
    expect(failure).to.be.instanceOf(CallRejectedError);
    expect((failure as Error).message).to.match(/^\[stream-closed\]/);
    expect(written).to.deep.equal([1]);
  });
});
