import { expect } from 'chai';
import { DeadlockError, type Remote } from '../../../lib/index.js';
import { eventuallyTrue, startNode, startNodeRuntime } from '../../fixtures/cluster-fixture.js';
import { handPeer } from '../../fixtures/hand-peer.js';
import { startNatsServer } from '../../fixtures/nats-server.js';
import type { ProcessProbe } from '../../fixtures/process-probe.js';

/** How a call settled: its answer, or its error. */
const settled = <T>(promise: Promise<T>): Promise<{ answer?: T; error?: Error }> => promise.then((answer) => ({ answer }), (error: Error) => ({ error }));

/**
 * Node b's chain holds b's object and calls this runtime's; this runtime's chain holds its object
 * and calls b's. Neither runtime alone sees a cycle: each holds one of its two waits.
 */
async function crossedCalls(): Promise<{ here: { answer?: number; error?: Error }; there: { answer?: unknown; error?: Error } }> {
  const nats = await startNatsServer('one');
  const b = await startNode('b', nats.url);
  const runtime = await startNodeRuntime(nats.url);
  const apt = await runtime.createApartment({ name: 'holder' });
  const mine = await apt.createObject<ProcessProbe>('ProcessProbe');
  await runtime.node!.publish('of-a', mine);
  expect(await b.ask('cycle-start', { key: 'of-a', value: 'of-b' }), "node b's chain holds its object").to.equal(true);
  const theirs = await runtime.node!.open<ProcessProbe>('of-b');
  let there!: Promise<{ answer?: unknown; error?: Error }>;
  const here = await settled(mine.callBack((async (n: number) => {
    // This chain holds this runtime's object now: let b's chain call it, and call b's object.
    there = settled(b.ask('cycle-go'));
    return (theirs as Remote<ProcessProbe>).callBack((m: number) => m + 10, n);
  }) as never, 1));
  return { here, there: await there };
}

describe('lib/cluster: a deadlock cycle through the runtimes of two nodes', () => {
  it('is found by the coordinator, which refuses one of its calls with DeadlockError naming both runtimes; the other call completes', async () => {
    const { here, there } = await crossedCalls();
    const failed = [here.error, there.error].filter((error) => error !== undefined);
    expect(failed, `one call fails, the other completes: ${failed.map((error) => error.message).join(' | ')}`).to.have.length(1);
    expect(failed[0]!.message).to.match(/^\[deadlock\] call chains of 2 runtimes wait on each other: chain #\S+ waits in apartment .* of node '(a|b)' to call ProcessProbe\.callBack/);
    expect(failed[0]!.message).to.contain("of node 'a'").and.to.contain("of node 'b'");
    if (here.error) {
      expect(here.error, 'refused here: the error crossed back from node b').to.be.instanceOf(DeadlockError);
      expect(there.answer, "node b's chain went on once this one let go").to.equal(1 + 1 + 1 + 1);
    } else {
      expect(here.answer, "this runtime's chain went on once node b's let go").to.equal(1 + 10 + 1 + 1);
    }
  });
});

describe('lib/cluster: waits messages from a node that does not coordinate', () => {
  it('are answered as refused, and malformed ones are dropped with a warning; detection across runtimes goes on', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const peer = await handPeer(nats.url);
    const ask = async (body: unknown): Promise<unknown> => JSON.parse(new TextDecoder().decode((await peer.nc.request('apartments.b.waits.mallory', JSON.stringify(body), { timeout: 30_000 })).data));
    const wait = { apartment: 1, id: 1, waiter: 2 ** 32 + 5, holders: [7] };
    expect(await ask({ op: 'confirm', waits: [wait] }), 'mallory does not coordinate: no wait of b is confirmed to it').to.deep.equal({ held: [false] });
    expect(await ask({ op: 'break', wait, message: '[deadlock] forged' })).to.deep.equal({ broken: false });
    for (const junk of ['not json', '{"op":"report","full":true,"add":[{"apartment":-1}],"gone":[]}', JSON.stringify({ op: 'confirm', waits: new Array(2_000).fill(wait) }), '{"op":"steal"}']) {
      peer.nc.publish('apartments.b.waits.mallory', junk);
    }
    await peer.nc.flush();
    await eventuallyTrue('node b warns of the malformed waits message', () => /\[waits-dropped\] node 'b' dropped a malformed waits message from node 'mallory'/.test(b.stderr()));
    expect(await b.ask<boolean>('claim', { key: 'still-answers', value: 'x' }), 'node b still serves').to.equal(true);
    await peer.nc.close();
  });
});
