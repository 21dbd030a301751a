import { serialize } from 'node:v8';
import { expect } from 'chai';
import { Op, RefKind } from '../../../marshal/protocol.js';
import { WireDecoder } from '../../../marshal/transports/wire-serializer.js';
import { startNode } from '../../fixtures/cluster-fixture.js';
import { handPeer, until, type HandPeer } from '../../fixtures/hand-peer.js';
import { startNatsServer } from '../../fixtures/nats-server.js';

/** The answers (Result or Error messages) that came to mallory on the link between the runtimes (link 0), by call id. */
function answers(peer: HandPeer): Map<number, unknown[]> {
  const byCall = new Map<number, unknown[]>();
  for (const [, , , tag, link, payload] of peer.frames) {
    if (tag !== 'apartment:batch' || link !== 0) continue;
    const bytes = Buffer.from(payload as string, 'latin1');
    for (const message of new WireDecoder(bytes).decode(0, bytes.length) as unknown[][]) {
      if (message[0] === Op.Result || message[0] === Op.Error) byCall.set(message[1] as number, message);
    }
  }
  return byCall;
}

/** The error message of answer `call`, or a note that it succeeded. */
const errorOf = (answer: unknown[] | undefined): string => (answer?.[0] === Op.Error ? String((answer[2] as { message: unknown }).message) : `no error: ${JSON.stringify(answer)}`);

describe('lib/cluster: a runtime reads what another runtime sends on the link between them as hostile', () => {
  it('serves only the objects it published and what their calls returned: no control service of its main apartment, no ungranted object, no third party', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    await b.ask<number>('ref-publish', { key: 'probe' });
    const peer = await handPeer(nats.url);
    const hello = await peer.ask('b', JSON.stringify({ op: 'hello', from: 'mallory', epoch: 'e1', session: 'e1.1', periodMs: 10_000, misses: 10 }));
    expect(hello.knows).to.equal(true);
    let seq = 0;
    const send = (tag: string, payload: unknown): void => peer.nc.publish(`apartments.b.${String(hello.epoch)}.mallory`, serialize(['mallory', 'e1.1', seq++, tag, 0, payload]));
    const call = (callId: number, oid: number, method: string, args: unknown[], refs: unknown = 0): void => send('apartment:batch', [[Op.Call, callId, oid, method, args, refs, 1000 + callId]]);
    send('runtime:gateway', null);
    // The main apartment's own services are not on this link.
    call(1, 0, 'interface-table.lookup', ['x']);
    call(2, 0, 'named.open', ['mutex', 'x', 8, 1]);
    call(3, 0, 'published.open', ['nobody-publishes-this']);
    call(4, 0, 'published.open', ['probe']);
    await until(() => answers(peer).size >= 4);
    const first = answers(peer);
    expect(errorOf(first.get(1))).to.match(/^\[no-interface\] object has no callable method 'interface-table.lookup'/);
    expect(errorOf(first.get(2))).to.match(/^\[no-interface\] object has no callable method 'named.open'/);
    expect(errorOf(first.get(3))).to.match(/^\[ref-unknown\]/);
    const opened = first.get(4)!;
    expect(opened[0], 'the published object is handed out').to.equal(Op.Result);
    const [ref] = opened[3] as [unknown[], number, number, number, number, string][];
    const oid = ref![2];
    expect(ref![3]).to.equal(RefKind.Object);
    // An object of b's that mallory was never handed, by a guessed id.
    call(5, oid + 1, 'pid', []);
    // The published object, called with a reference to an object of a third party (apartment 12345 of mallory's runtime).
    call(6, oid, 'useObject', [null, 2], [[[0], 12345, 1, RefKind.Object, 7, 'forged-grant']]);
    // And the published object works for what mallory was handed.
    call(7, oid, 'pid', []);
    await until(() => answers(peer).size >= 7);
    const later = answers(peer);
    expect(errorOf(later.get(5))).to.match(/^\[(not-granted|object-gone)\]/);
    expect(errorOf(later.get(6))).to.contain('[node-reference]');
    expect(later.get(7)![0]).to.equal(Op.Result);
    expect(later.get(7)![2]).to.equal(b.pid);
    await peer.nc.close();
  });
});
