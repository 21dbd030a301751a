import { expect } from 'chai';
import { Outbox } from '../../marshal/outbox.js';
import type { Batch, Message } from '../../marshal/protocol.js';
import type { Transferable, Transport } from '../../marshal/transport.js';

/** A transport that records what it is asked to send (a unit spec of the outbox alone). */
function recorder(): { transport: Transport; sent: { batch: Batch; transfer: readonly Transferable[] | undefined }[] } {
  const sent: { batch: Batch; transfer: readonly Transferable[] | undefined }[] = [];
  const transport: Transport = {
    send: (batch, transfer) => {
      sent.push({ batch, transfer });
    },
    listen: () => {},
    setKeepAlive: () => {},
    close: () => {},
  };
  return { transport, sent };
}

const turnEnd = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('marshal/outbox: the transfer lists of one turn\'s messages', () => {
  it('go with the batch as one list, in message order, leaving each message\'s own list as it was', async () => {
    const { transport, sent } = recorder();
    const outbox = new Outbox(() => expect.fail('nothing is undeliverable here'));
    outbox.attach(transport);
    const [a, b, c] = [new ArrayBuffer(1), new ArrayBuffer(2), new ArrayBuffer(3)];
    const first = [a];
    const second = [b, c];
    outbox.queue(['one'] as unknown as Message, first);
    outbox.queue(['two'] as unknown as Message);
    outbox.queue(['three'] as unknown as Message, second);
    await turnEnd();
    expect(sent).to.have.length(1);
    expect(sent[0]!.batch).to.have.length(3);
    expect(sent[0]!.transfer).to.deep.equal([a, b, c]);
    expect(first, 'the first list is not grown by the others').to.deep.equal([a]);
    expect(second).to.deep.equal([b, c]);
  });

  it('is the one message\'s list when only one message moves something, and none when none does', async () => {
    const { transport, sent } = recorder();
    const outbox = new Outbox(() => expect.fail('nothing is undeliverable here'));
    outbox.attach(transport);
    const buffer = new ArrayBuffer(8);
    outbox.queue(['plain'] as unknown as Message);
    outbox.queue(['moves'] as unknown as Message, [buffer]);
    await turnEnd();
    outbox.queue(['plain again'] as unknown as Message);
    await turnEnd();
    expect(sent.map((s) => s.transfer)).to.deep.equal([[buffer], undefined]);
  });
});

describe('marshal/outbox: sending before the turn ends (sendEarly)', () => {
  const message = (name: string): Message => [name] as unknown as Message;
  const names = (sent: { batch: Batch }[]): string[][] => sent.map((s) => (s.batch as unknown as string[][]).map((m) => m[0]!));

  it('sends at once when its flush is the turn\'s only end-of-turn work, and later messages at the turn\'s end', async () => {
    const { transport, sent } = recorder();
    const outbox = new Outbox(() => expect.fail('nothing is undeliverable here'));
    outbox.attach(transport);
    outbox.queue(message('reply 1'));
    outbox.queue(message('reply 2'));
    outbox.sendEarly();
    expect(names(sent), 'sent before this synchronous code ended').to.deep.equal([['reply 1', 'reply 2']]);
    queueMicrotask(() => outbox.queue(message('from a microtask')));
    await turnEnd();
    expect(names(sent), 'each message once, in order').to.deep.equal([['reply 1', 'reply 2'], ['from a microtask']]);
  });

  it('waits for the turn\'s end when another outbox asked first, so it overtakes nothing', async () => {
    const first = recorder();
    const second = recorder();
    const order: string[] = [];
    const a = new Outbox(() => expect.fail('nothing is undeliverable here'));
    const b = new Outbox(() => expect.fail('nothing is undeliverable here'));
    const noting = (name: string, through: Transport): Transport => ({
      ...through,
      send: (batch, transfer) => {
        order.push(name);
        through.send(batch, transfer);
      },
    });
    a.attach(noting('a', first.transport));
    b.attach(noting('b', second.transport));
    a.queue(message('to another peer'));
    b.queue(message('reply'));
    b.sendEarly();
    expect(order, 'nothing sent before the turn ends').to.deep.equal([]);
    await turnEnd();
    expect(order, 'in the order the turn asked').to.deep.equal(['a', 'b']);
    expect(names(second.sent)).to.deep.equal([['reply']]);
  });

  it('sends nothing when nothing was queued, and leaves a message that may wait to wait', async () => {
    const { transport, sent } = recorder();
    const outbox = new Outbox(() => expect.fail('nothing is undeliverable here'));
    outbox.attach(transport);
    outbox.sendEarly();
    outbox.queueLazily(message('bookkeeping'));
    outbox.sendEarly();
    expect(sent, 'a lazy message is not sent on its own').to.deep.equal([]);
    await turnEnd();
    expect(names(sent)).to.deep.equal([['bookkeeping']]);
  });
});
