import { deserialize, serialize } from 'node:v8';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { expect } from 'chai';
import { release } from '../../../lib/index.js';
import { startNode, startNodeRuntime } from '../../fixtures/cluster-fixture.js';
import { startNatsServer } from '../../fixtures/nats-server.js';
import type { ProcessProbe } from '../../fixtures/process-probe.js';

/** A peer that speaks the cluster's wire by hand, as a broken or hostile node could. */
async function handPeer(url: string): Promise<{ nc: NatsConnection; ask(node: string, body: string): Promise<Record<string, unknown>>; inbox: string; frames: unknown[][] }> {
  const nc = await connect({ servers: url });
  const inbox = 'apartments.mallory.e1';
  const frames: unknown[][] = [];
  nc.subscribe(inbox, {
    callback: (_err, msg) => {
      frames.push(deserialize(msg.data) as unknown[]);
    },
  });
  await nc.flush();
  return {
    nc,
    inbox,
    frames,
    ask: async (node, body) => JSON.parse(new TextDecoder().decode((await nc.request(`apartments.${node}.ctl`, body, { timeout: 30_000 })).data)) as Record<string, unknown>,
  };
}

/** Wait until `check` holds, polling; the hang guard of the spec runner is the limit. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
}

describe('lib/cluster: a node treats what other nodes send as hostile', () => {
  it('answers a request that is not a control request with a refusal, and serves on', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const peer = await handPeer(nats.url);
    for (const body of ['not json', '{"op":"hello"}', JSON.stringify({ op: 'hello', from: 'mallory', epoch: 'e1', session: 'other.1', periodMs: 100, misses: 5 }), JSON.stringify({ op: 'ping', from: 'x'.repeat(100), epoch: 'e', session: 'e.1', sent: 0, links: {} }), 'x'.repeat(70_000),
      // A heartbeat no node may set (it would keep a session, and a 1 ms timer, for good), and names that are no node's.
      JSON.stringify({ op: 'hello', from: 'mallory', epoch: 'e1', session: 'e1.1', periodMs: 1e300, misses: 10 }),
      JSON.stringify({ op: 'hello', from: 'mallory', epoch: 'e1', session: 'e1.1', periodMs: 1_000, misses: 1e6 }),
      JSON.stringify({ op: 'hello', from: 'mal lory', epoch: 'e1', session: 'e1.1', periodMs: 1_000, misses: 10 }),
      JSON.stringify({ op: 'hello', from: 'mallory', epoch: 'E.1', session: 'E.1.1', periodMs: 1_000, misses: 10 })]) {
      const reply = await peer.ask('b', body);
      expect(reply.knows, body.slice(0, 60)).to.equal(false);
      expect(reply.refusal, body.slice(0, 60)).to.equal('not a control request');
    }
    await peer.nc.close();
    const runtime = await startNodeRuntime(nats.url);
    const probe = await (await runtime.createApartment({ node: 'b' })).createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.pid(), 'node b serves on').to.equal(b.pid);
    release(probe);
  });

  it('refuses a boot record whose apartment session would listen outside the node or answer elsewhere than its host', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const peer = await handPeer(nats.url);
    const hello = await peer.ask('b', JSON.stringify({ op: 'hello', from: 'mallory', epoch: 'e1', session: 'e1.1', periodMs: 10_000, misses: 10 }));
    expect(hello.knows).to.equal(true);
    const inbox = `apartments.b.${String(hello.epoch)}`;
    expect(inbox).to.contain(b.epoch);
    const boot = (link: number, session: Record<string, unknown>) => ({ boot: { id: 7, name: 'evil', classes: [], linkKinds: [], hooks: [], link: { nats: link, session } }, resourceLimits: undefined });
    const send = (seq: number, tag: string, link: number, payload: unknown) => peer.nc.publish(inbox, serialize(['mallory', 'e1.1', seq, tag, link, payload]));
    send(0, 'apartment:boot', 1, boot(1, { id: 'e1.1/1', host: 'mallory', subject: 'elsewhere.entirely', reply: peer.inbox }));
    send(1, 'apartment:boot', 2, boot(2, { id: 'e1.1/2', host: 'mallory', subject: `${inbox}.mallory.e1.1.2`, reply: 'apartments.victim.e9' }));
    send(2, 'apartment:boot', 3, { boot: 'not a boot record' });
    // Limits that abort a whole process when a thread is started with them.
    send(3, 'apartment:boot', 4, { ...boot(4, { id: 'e1.1/4', host: 'mallory', subject: `${inbox}.mallory.e1.1.4`, reply: peer.inbox }), resourceLimits: { codeRangeSizeMb: 1e9 } });
    // Garbage on the inbox is dropped; the session goes on.
    peer.nc.publish(inbox, new Uint8Array([1, 2, 3]));
    await until(() => peer.frames.length >= 4);
    const exits = peer.frames.map((f) => [f[3], f[4], (f[5] as { description: string }).description]);
    expect(exits.map(([tag, link]) => [tag, link])).to.deep.equal([['apartment:exited', 1], ['apartment:exited', 2], ['apartment:exited', 3], ['apartment:exited', 4]]);
    expect(exits[0]![2]).to.match(/^\[node-boot\]/).and.contain('subject');
    expect(exits[1]![2]).to.match(/^\[node-boot\]/).and.contain("host's inbox");
    expect(exits[2]![2]).to.match(/^\[node-boot\]/);
    expect(exits[3]![2]).to.match(/^\[node-boot\]/).and.contain('resourceLimits.codeRangeSizeMb must be a number of MB from 1 to 1024');
    expect(await b.ask<number>('hosted'), 'nothing started').to.equal(0);
    await peer.nc.close();
  });
});
