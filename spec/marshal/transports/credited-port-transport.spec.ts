import { MessageChannel } from 'node:worker_threads';
import { expect } from 'chai';
import { CallRejectedError } from '../../../marshal/errors.js';
import type { Batch } from '../../../marshal/protocol.js';
import { CreditedPortTransport } from '../../../marshal/transports/credited-port-transport.js';
import { ipcRelayLink } from '../../../marshal/transports/ipc-relay-link.js';

// The near end of a relayed link to a worker thread counts what it posted and the far end has not
// taken, and posts no more past its bound. Both ends are real: a MessageChannel's two ports, the
// far one attached as a thread attaches a relayed link's end.

/** A near end bounded at `bound` bytes and the far end of its link, not listening yet. */
function relayedPair(bound: number): { near: CreditedPortTransport; far: ReturnType<typeof ipcRelayLink.attach> } {
  const { port1, port2 } = new MessageChannel();
  const taken = new SharedArrayBuffer(4);
  const near = new CreditedPortTransport(port1, taken, bound);
  const far = ipcRelayLink.attach({ relay: port2, taken });
  return { near, far };
}

describe('marshal/transports/credited-port-transport: what waits untaken is bounded', () => {
  it('refuses a batch once more than the bound waits, with CallRejectedError [relay-backlog] (retry later), and posts again once the far end took them', async () => {
    const { near, far } = relayedPair(1_000);
    near.send('a'.repeat(600) as unknown as Batch);
    near.send('b'.repeat(600) as unknown as Batch);
    expect(near.backlog).to.be.above(1_000);
    let refusal: unknown;
    try {
      near.send('c' as unknown as Batch);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).to.be.instanceOf(CallRejectedError);
    expect((refusal as CallRejectedError).code).to.equal('RPC_E_SERVERCALL_RETRYLATER');
    expect((refusal as Error).message).to.match(/^\[relay-backlog\] the apartment has left \d+ bytes relayed to it untaken \(at most 1000\)/);

    const got: unknown[] = [];
    far.listen((batch) => got.push(batch), () => undefined);
    while (got.length < 2) await new Promise((resolve) => setImmediate(resolve));
    expect(near.backlog, 'all taken').to.equal(0);
    near.send('d' as unknown as Batch);
    while (got.length < 3) await new Promise((resolve) => setImmediate(resolve));
    expect(got.map((b) => (b as string)[0])).to.deep.equal(['a', 'b', 'd']);
    near.close();
    far.close();
  });

  it('weighs a batch as V8 serializes it: a sparse array of length 2^32 - 1 (a 13-byte frame) weighs a few bytes, and is posted', async () => {
    const { near, far } = relayedPair(1_000);
    const sparse: unknown[] = [];
    sparse.length = 2 ** 32 - 1;
    sparse[7] = 'x';
    near.send(sparse as unknown as Batch);
    expect(near.backlog).to.be.below(100);
    const got: unknown[] = [];
    far.listen((batch) => got.push(batch), () => undefined);
    while (got.length < 1) await new Promise((resolve) => setImmediate(resolve));
    expect((got[0] as unknown[]).length).to.equal(2 ** 32 - 1);
    expect(near.backlog).to.equal(0);
    near.close();
    far.close();
  });

  it('counts a batch the port refuses (it cannot be cloned) as never posted', () => {
    const { near, far } = relayedPair(1_000);
    expect(() => near.send([() => 1] as unknown as Batch)).to.throw();
    expect(near.backlog).to.equal(0);
    near.close();
    far.close();
  });
});
