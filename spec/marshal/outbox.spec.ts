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
