import { expect } from 'chai';
import { connect } from '@nats-io/transport-node';
import { DeadlockError, release, type Remote, type Runtime } from '../../../lib/index.js';
import { eventuallyTrue, SPEC_HEARTBEAT, startNode, startNodeRuntime, type NodeProcess } from '../../fixtures/cluster-fixture.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';
import { handPeer } from '../../fixtures/hand-peer.js';
import { startNatsServer } from '../../fixtures/nats-server.js';
import type { ProcessProbe } from '../../fixtures/process-probe.js';

/** How a call settled: its answer, or its error. */
const settled = <T>(promise: Promise<T>): Promise<{ answer?: T; error?: Error }> => promise.then((answer) => ({ answer }), (error: Error) => ({ error }));

/**
 * Node `other`'s chain holds its object and calls this runtime's; this runtime's chain holds its
 * object and calls `other`'s. Neither runtime alone sees a cycle: each holds one of its two waits.
 */
async function crossedCalls(runtime: Runtime, other: NodeProcess): Promise<{ here: { answer?: number; error?: Error }; there: { answer?: unknown; error?: Error } }> {
  const apt = await runtime.createApartment({ name: 'holder' });
  const mine = await apt.createObject<ProcessProbe>('ProcessProbe');
  await runtime.node!.publish('of-a', mine);
  expect(await other.ask('cycle-start', { key: 'of-a', value: 'of-other' }), `node ${other.name}'s chain holds its object`).to.equal(true);
  const theirs = await runtime.node!.open<ProcessProbe>('of-other');
  let there!: Promise<{ answer?: unknown; error?: Error }>;
  const here = await settled(mine.callBack((async (n: number) => {
    // This chain holds this runtime's object now: let the other chain call it, and call the other's object.
    there = settled(other.ask('cycle-go'));
    return (theirs as Remote<ProcessProbe>).callBack((m: number) => m + 10, n);
  }) as never, 1));
  return { here, there: await there };
}

/** One of the two crossed calls was refused with DeadlockError naming both runtimes; the other completed. */
function expectOneRefused({ here, there }: Awaited<ReturnType<typeof crossedCalls>>, other: string): void {
  const failed = [here.error, there.error].filter((error) => error !== undefined);
  expect(failed, `one call fails, the other completes: ${failed.map((error) => error.message).join(' | ')}`).to.have.length(1);
  expect(failed[0]!.message).to.match(/^\[deadlock\] call chains of 2 runtimes wait on each other: chain #\S+ waits in apartment .* of node '\w+' to call ProcessProbe\.callBack/);
  expect(failed[0]!.message).to.contain("of node 'a'").and.to.contain(`of node '${other}'`);
  if (here.error) {
    expect(here.error, `refused here: the error crossed back from node ${other}`).to.be.instanceOf(DeadlockError);
    expect(there.answer, "the other node's chain went on once this one let go").to.equal(1 + 1 + 1 + 1);
  } else {
    expect(here.answer, "this runtime's chain went on once the other node's let go").to.equal(1 + 10 + 1 + 1);
  }
}

/** Who holds the coordinator's role in the directory of the cluster at `url` now. */
async function coordinator(url: string): Promise<string | undefined> {
  const nc = await connect({ servers: url });
  try {
    const { Kvm } = await import('@nats-io/kv');
    const entry = await (await new Kvm(nc).open('apartments')).get('role.deadlocks');
    return entry?.operation === 'PUT' ? (JSON.parse(entry.string()) as { node: string }).node : undefined;
  } finally {
    await nc.close();
  }
}

/** Once every call settled, the coordinator (this runtime, or one of `nodes`) holds no wait any more. */
async function coordinatorEndsEmpty(url: string, runtime: Runtime, nodes: readonly NodeProcess[]): Promise<void> {
  const holder = await coordinator(url);
  const node = nodes.find((n) => n.name === holder);
  expect(holder === 'a' || node !== undefined, `the coordinator is a live node: ${holder}`).to.equal(true);
  await eventuallyTrue(`the coordinator (node ${holder}) holds no wait`, async () => (node ? (await node.ask<{ coordinatedWaits: number }>('references')).coordinatedWaits : runtime.node!.references().coordinatedWaits) === 0);
}

describe('lib/cluster: a deadlock cycle through the runtimes of two nodes', () => {
  it('is found by the coordinator, which refuses one of its calls with DeadlockError naming both runtimes; the other call completes', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    expectOneRefused(await crossedCalls(runtime, b), 'b');
    await coordinatorEndsEmpty(nats.url, runtime, [b]);
  });

  it('is found after the coordinator was killed: another linked node takes the role over once its claim expires', async () => {
    const nats = await startNatsServer('one');
    const lease = { leaseMs: 2_000 };
    const b = await startNode('b', nats.url, lease);
    const c = await startNode('c', nats.url, lease);
    // b and c hold a link before this runtime holds any: one of them takes the role.
    await b.ask('ref-publish', { key: 'of-b' });
    expect(await c.ask('ref-keep', { key: 'of-b' })).to.equal(true);
    let first: string | undefined;
    await eventuallyTrue('a linked node takes the coordinator\'s role', async () => (first = await coordinator(nats.url)) !== undefined);
    expect(first).to.be.oneOf(['b', 'c']);
    const [killed, survivor] = first === 'b' ? [b, c] : [c, b];
    killed.child.kill('SIGKILL');
    await killed.exited;
    const runtime = await startNodeRuntime(nats.url, 'a', lease);
    expectOneRefused(await crossedCalls(runtime, survivor), survivor.name);
    expect(await coordinator(nats.url), 'the role moved to a live node').to.be.oneOf(['a', survivor.name]);
    await coordinatorEndsEmpty(nats.url, runtime, [survivor]);
  });
});

describe('lib/cluster: waits messages from a node that does not coordinate', () => {
  it('are answered as refused, and malformed ones are dropped with a warning; the node goes on serving', async () => {
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

describe('lib/cluster: waits a hostile node reports to the coordinator', () => {
  it('are kept up to a bound per node, past which the coordinator says so once; cycles through honest runtimes are still found', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const { rt: runtime, logs } = await startRuntime({ node: { name: 'a', nats: nats.url, heartbeat: SPEC_HEARTBEAT } });
    runtime.registerClass('ProcessProbe', { module: fixture('process-probe.js'), export: 'ProcessProbe' });
    // A link between the two runtimes, so one of them takes the coordinator's role.
    await b.ask('ref-publish', { key: 'link' });
    const linked = await runtime.node!.open('link');
    let holder: string | undefined;
    await eventuallyTrue('a linked node takes the coordinator\'s role', async () => (holder = await coordinator(nats.url)) !== undefined);
    const warned = (): string => (holder === 'a' ? logs.map((entry) => entry.message).join('\n') : b.stderr());
    const peer = await handPeer(nats.url);
    const made = (id: number): object => ({ apartment: 1, id, waiter: 9 * 2 ** 32 + id, holders: [9 * 2 ** 32 + id + 1], object: 'Made', method: 'up', label: 'made up' });
    // Eleven reports of a thousand waits each, a chain of made-up waits longer than the bound.
    for (let report = 0; report < 11; report++) {
      const add = Array.from({ length: 1_000 }, (_, i) => made(report * 1_000 + i));
      peer.nc.publish(`apartments.${holder!}.waits.mallory`, JSON.stringify({ op: 'report', full: false, add, gone: [] }));
    }
    await peer.nc.flush();
    await eventuallyTrue('the coordinator says it keeps no more of mallory\'s waits', () => /\[deadlock-coordinator\] node 'mallory' reports more than 10000 waits/.test(warned()));
    const held = holder === 'a' ? runtime.node!.references().coordinatedWaits : (await b.ask<{ coordinatedWaits: number }>('references')).coordinatedWaits;
    expect(held, 'the coordinator holds the bound of made-up waits, and no more').to.be.within(10_000, 10_010);
    await peer.nc.close();
    release(linked);
    expectOneRefused(await crossedCalls(runtime, b), 'b');
    // Mallory no longer reports: its waits are forgotten after a heartbeat's periodMs × misses.
    await coordinatorEndsEmpty(nats.url, runtime, [b]);
  });
});

