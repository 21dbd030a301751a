import { expect } from 'chai';
import { Duplex } from 'node:stream';
import { HeartbeatWatch } from '../../../apartments/hosts/heartbeat-pipe.js';

/** A pipe whose far end writes to look alive and never reads what it is sent. */
function unreadPipe(): Duplex & { answer(): void } {
  const pipe = new Duplex({
    read() {},
    // Never calls back: nothing written is ever taken, as with a child that does not read.
    write() {},
  });
  return Object.assign(pipe, { answer: () => void pipe.push(Buffer.of(1)) });
}

describe('apartments/hosts/heartbeat-pipe: a child that answers but never reads its pings', () => {
  let watch: HeartbeatWatch | undefined;
  afterEach(() => watch?.stop());

  it('has at most one ping queued for it however long it goes on, and still counts as alive', async () => {
    const pipe = unreadPipe();
    let hung = false;
    watch = new HeartbeatWatch(pipe, { periodMs: 10, misses: 1_000 }, () => {
      hung = true;
    });
    // Fifty periods and more, each answered by the child's own writes.
    for (let i = 0; i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      pipe.answer();
    }
    expect(pipe.writableLength, 'pings queued for a child that reads none').to.equal(1);
    expect(hung).to.equal(false);
  });
});
