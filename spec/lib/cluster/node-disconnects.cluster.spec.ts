import { expect } from 'chai';
import { ApartmentError, DisconnectedError, Runtime, release, type Apartment, type ApartmentFaultedError } from '../../../lib/index.js';
import { connectNats } from '../../../marshal/transports/nats-connect.js';
import { eventuallyTrue as until, startNode, startNodeRuntime } from '../../fixtures/cluster-fixture.js';
import { startNatsServer, type NatsServer } from '../../fixtures/nats-server.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';
import { rejection } from '../../fixtures/process-fixture.js';
import type { ProcessProbe } from '../../fixtures/process-probe.js';

/**
 * A heartbeat no spec outlives (a ping every ten minutes): whatever finds a node gone in these
 * specs is the server's disconnect advisory, not a missed ping.
 */
const SLOW_HEARTBEAT = { periodMs: 600_000, misses: 10 } as const;

/** The node options of a node on `nats`, a server with accounts. */
function withAccount(nats: NatsServer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { auth: nats.auth, disconnects: nats.disconnects, ...extra };
}

function faultOf(apt: Apartment): Promise<ApartmentFaultedError> {
  return new Promise((resolve) => apt.once('fault', resolve));
}

describe('lib/cluster: a NATS server that requires credentials', () => {
  it('lets nodes with node.auth join and run apartments on each other, their apartment threads logged in too', async () => {
    const nats = await startNatsServer('accounts', { accounts: true });
    const b = await startNode('b', nats.url, withAccount(nats));
    const runtime = await startNodeRuntime(nats.url, 'a', withAccount(nats));
    const apt = await runtime.createApartment({ node: 'b' });
    const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.pid(), 'the apartment runs on node b').to.equal(b.pid);
    expect(await probe.callBack((n: number) => n * 3, 5), 'and calls back here (its answer plus one)').to.equal(16);
    release(probe);
  });

  it('refuses a node without them with DisconnectedError [cluster-connect] naming node.auth', async () => {
    const nats = await startNatsServer('accounts', { accounts: true });
    const err = await rejection(Runtime.start({ node: { name: 'a', nats: nats.url } }));
    expect(err, String(err)).to.be.instanceOf(DisconnectedError);
    expect(err.message).to.match(/^\[cluster-connect\]/).and.contain('node.auth');
    const wrong = await rejection(Runtime.start({ node: { name: 'a', nats: nats.url, auth: { user: 'app', pass: 'not-the-password' } } }));
    expect(wrong, String(wrong)).to.be.instanceOf(DisconnectedError);
    expect(wrong.message).to.contain('node.auth');
  });
});

describe("lib/cluster: the server's disconnect advisory", () => {
  it('finds a node killed with SIGKILL gone long before its next heartbeat: calls settle, references are reclaimed', async () => {
    const nats = await startNatsServer('accounts', { accounts: true });
    const b = await startNode('b', nats.url, withAccount(nats, { heartbeat: SLOW_HEARTBEAT }));
    const runtime = await startNodeRuntime(nats.url, 'a', withAccount(nats, { heartbeat: SLOW_HEARTBEAT }));
    const apt = await runtime.createApartment({ node: 'b' });
    const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
    const counter = await probe.makeCounter() as unknown as { increment(): Promise<number> };
    const inFlight = rejection(probe.hang());
    const faulted = faultOf(apt);
    b.child.kill('SIGKILL');
    const fault = await faulted;
    expect(fault.message, fault.message).to.contain("node 'b'").and.contain('dropped its connection to the NATS server');
    expect(await inFlight, 'the call in flight settles').to.be.instanceOf(ApartmentError);
    expect(await rejection(counter.increment()), 'a reference into the dead node is disconnected').to.be.instanceOf(ApartmentError);
    expect(apt.state).to.equal('faulted');
  });

  it('serves again from a node started under the killed one\'s name, in a new epoch, kill after kill', async () => {
    const nats = await startNatsServer('accounts', { accounts: true });
    const runtime = await startNodeRuntime(nats.url, 'a', withAccount(nats, { heartbeat: SLOW_HEARTBEAT }));
    let node = await startNode('b', nats.url, withAccount(nats, { heartbeat: SLOW_HEARTBEAT }));
    const epochs = new Set([node.epoch]);
    for (let round = 0; round < 5; round++) {
      const apt = await runtime.createApartment({ node: 'b' });
      expect(apt.hostIdentity).to.equal(`node 'b' (epoch ${node.epoch})`);
      const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
      expect(await probe.pid(), `round ${round}: the node of this epoch serves`).to.equal(node.pid);
      const faulted = faultOf(apt);
      const inFlight = rejection(probe.hang());
      node.child.kill('SIGKILL');
      // The next node of the name starts at once: its hello may come before or after the advisory.
      node = await startNode('b', nats.url, withAccount(nats, { heartbeat: SLOW_HEARTBEAT }));
      await faulted;
      expect(await inFlight, `round ${round}: the call in flight settles`).to.be.instanceOf(ApartmentError);
      expect(await rejection(probe.pid()), `round ${round}: the killed epoch's object is disconnected`).to.be.instanceOf(ApartmentError);
      epochs.add(node.epoch);
    }
    expect(epochs.size, 'each start is a new epoch').to.equal(6);
  });

  it('ends what a node ran for a host killed with SIGKILL, long before the host would have missed its heartbeats', async () => {
    const nats = await startNatsServer('accounts', { accounts: true });
    const b = await startNode('b', nats.url, withAccount(nats, { heartbeat: SLOW_HEARTBEAT }));
    const c = await startNode('c', nats.url, withAccount(nats, { heartbeat: SLOW_HEARTBEAT }));
    expect(await c.ask<number>('place-on', { node: 'b' }), "c's apartment runs on node b").to.equal(b.pid);
    expect(await b.ask<number>('hosted')).to.equal(1);
    c.child.kill('SIGKILL');
    await until('node b ended the apartment it ran for the killed node c', async () => (await b.ask<number>('hosted')) === 0);
  });

  it('is only a reason to ask: forged and malformed advisories on the subject leave a live node serving', async () => {
    const nats = await startNatsServer('accounts', { accounts: true });
    const b = await startNode('b', nats.url, withAccount(nats, { heartbeat: SLOW_HEARTBEAT }));
    const { rt: runtime, logs } = await startRuntime({ node: { name: 'a', nats: nats.url, heartbeat: SLOW_HEARTBEAT, auth: nats.auth!, disconnects: nats.disconnects! } });
    runtime.registerClass('ProcessProbe', { module: fixture('process-probe.js'), export: 'ProcessProbe' });
    const apt = await runtime.createApartment({ node: 'b' });
    const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
    // Any client of the account may publish on the advisories' subject.
    const forger = await connectNats([nats.url], 'forger', nats.auth);
    try {
      const forged = {
        type: 'io.nats.server.advisory.v1.client_disconnect',
        client: { name: `apartments node apartments.b.${b.epoch}` },
        reason: 'Client Closed',
      };
      for (const payload of [JSON.stringify(forged), '{"type":', 'x'.repeat(20_000), JSON.stringify({ ...forged, client: { name: 42 } })]) {
        forger.publish(nats.disconnects!, payload);
      }
      // A flood of them: one probe a heartbeat period, not one each (before: 200 probes, 200 warnings).
      for (let i = 0; i < 200; i++) forger.publish(nats.disconnects!, JSON.stringify(forged));
      await forger.flush();
      // The forged advisory made node a ask b; b answered, so nothing ended.
      await until('node a asked b and heard back', () => logs.some((e) => e.message.startsWith('[node-disconnect]') && e.message.includes("node 'b'")));
      expect(logs.filter((e) => e.message.startsWith('[node-disconnect]')), 'one probe: the malformed ones dropped unread, the flood asked about once').to.have.length(1);
      expect(await probe.pid(), 'the apartment on b still answers').to.equal(b.pid);
      expect(apt.state).to.equal('ready');
    } finally {
      await forger.close();
    }
    release(probe);
  });
});
