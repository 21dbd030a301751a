import { expect } from 'chai';
import { ApartmentFaultedError, ApartmentError, CallTimeoutError, byRef, release, type Apartment, type Remote, type Runtime } from '../../../lib/index.js';
import { SPEC_HEARTBEAT, startNode, startNodeRuntime } from '../../fixtures/cluster-fixture.js';
import type { Crasher } from '../../fixtures/crasher.js';
import type { Holder } from '../../fixtures/holder.js';
import { startNatsCluster, startNatsServer } from '../../fixtures/nats-server.js';
import { rejection } from '../../fixtures/process-fixture.js';
import { eventuallyTrue as until } from '../../fixtures/cluster-fixture.js';
import type { Counter, ProcessProbe } from '../../fixtures/process-probe.js';

/** The fault `apt` reports, once it does. */
function faultOf(apt: Apartment): Promise<ApartmentFaultedError> {
  return new Promise((resolve) => apt.once('fault', resolve));
}

/** An apartment on node `node` holding an object of this node, with a call in flight that never ends by itself. */
async function busyApartment(runtime: Runtime, node: string): Promise<{ apt: Apartment; probe: Remote<ProcessProbe>; counter: Remote<Counter>; inFlight: Promise<Error> }> {
  const apt = await runtime.createApartment({ node });
  const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
  const counter = await probe.makeCounter() as unknown as Remote<Counter>;
  const holder = await apt.createObject<Holder>('Holder');
  // Node b holds a reference into this node: it must be released when b is gone.
  await holder.keep(byRef({ hello: () => 'from a' }));
  release(holder);
  expect(runtime.stats().exports, 'this node exports the object node b holds').to.equal(1);
  return { apt, probe, counter, inFlight: rejection(probe.hang()) };
}

describe('lib/cluster: a node killed with SIGKILL', () => {
  it('settles every call in flight, disconnects references into it and releases what it held here, soon after the server drops it', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    const { apt, counter, inFlight } = await busyApartment(runtime, 'b');
    const faulted = faultOf(apt);
    b.child.kill('SIGKILL');
    const fault = await faulted;
    expect(fault.message, fault.message).to.contain("node 'b'").and.contain('no longer listens');
    const err = await inFlight;
    expect(err, String(err)).to.be.instanceOf(ApartmentError);
    const later = await rejection(counter.increment());
    expect(later, 'a reference into the dead node is disconnected').to.be.instanceOf(ApartmentError);
    expect(runtime.stats().exports, 'what node b held here is released').to.equal(0);
    expect(apt.state).to.equal('faulted');
  });
});

describe('lib/cluster: a node frozen with SIGSTOP', () => {
  it('is gone after its missed heartbeats: calls settle, references are reclaimed, and once it runs again it has ended what it ran for this node', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    const { apt, inFlight } = await busyApartment(runtime, 'b');
    const faulted = faultOf(apt);
    b.child.kill('SIGSTOP');
    const fault = await faulted;
    expect(fault.message, fault.message).to.contain(`answered none of the last ${SPEC_HEARTBEAT.misses} heartbeats`);
    expect(await inFlight, 'the call in flight settles').to.be.instanceOf(ApartmentError);
    expect(runtime.stats().exports, 'what node b held here is released').to.equal(0);
    b.child.kill('SIGCONT');
    // Node b counts this node gone in turn (no pings came while it was stopped) and ends what it ran for it.
    await until('node b ended the apartment it ran for this node', async () => (await b.ask<number>('hosted')) === 0);
    const again = await runtime.createApartment({ node: 'b' });
    const probe = await again.createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.pid(), 'node b serves again').to.equal(b.pid);
    release(probe);
  });
});

describe('lib/cluster: a node that comes back', () => {
  it('has a new epoch; what ran in the old one stays gone, and new apartments run in the new one', async () => {
    const nats = await startNatsServer('one');
    const first = await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    const { apt, counter } = await busyApartment(runtime, 'b');
    const faulted = faultOf(apt);
    first.child.kill('SIGKILL');
    await faulted;
    const second = await startNode('b', nats.url);
    expect(second.epoch, 'a new epoch').to.not.equal(first.epoch);
    const again = await runtime.createApartment({ node: 'b' });
    expect(again.hostIdentity).to.equal(`node 'b' (epoch ${second.epoch})`);
    const probe = await again.createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.pid()).to.equal(second.pid);
    expect(await rejection(counter.increment()), 'the old epoch\'s object stays disconnected').to.be.instanceOf(ApartmentError);
    release(probe);
  });
});

describe('lib/cluster: a NATS server of the cluster killed', () => {
  it('moves a node to the other server; every call in flight settles and calls go on', async () => {
    const [first, second] = await startNatsCluster();
    // Node b prefers s2, this node s1: their sessions cross the route until s2 dies.
    const b = await startNode('b', [second.url, first.url]);
    const runtime = await startNodeRuntime([first.url, second.url]);
    const apt = await runtime.createApartment({ node: 'b' });
    const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.pid()).to.equal(b.pid);
    const inFlight = Array.from({ length: 20 }, (_, i) => probe.busy(i % 2 === 0 ? 20 : 0));
    await second.kill();
    const settled = await Promise.allSettled(inFlight);
    for (const s of settled) {
      if (s.status === 'rejected') {
        expect(s.reason, String(s.reason)).to.be.instanceOf(ApartmentError);
        expect(s.reason, String(s.reason)).to.not.be.instanceOf(CallTimeoutError);
      }
    }
    // Frames lost with the server fault the session ([link-gap]) within heartbeats, long before the calls' deadline.
    let target = probe;
    if (apt.state !== 'ready') {
      // Node b moves to the remaining server on its client's reconnect schedule; until it has, nobody
      // answers to it there and placing an apartment on it is refused at once ([node-unreachable]).
      let replacement: Apartment | undefined;
      await until('node b answers through the remaining server', async () => {
        replacement = await runtime.createApartment({ node: 'b' }).catch((err: unknown) => {
          if (/\[node-unreachable\]/.test((err as Error)?.message ?? '')) return undefined;
          throw err;
        });
        return replacement !== undefined;
      });
      target = await replacement!.createObject<ProcessProbe>('ProcessProbe');
    }
    expect(await target.pid(), 'calls go on through the remaining server').to.equal(b.pid);
  });
});

describe('lib/cluster: a fault of one apartment on a node', () => {
  it('ends only that apartment, with the node\'s word on how, and a restart policy starts its replacement on the same node', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    const neighbour = await (await runtime.createApartment({ node: 'b' })).createObject<ProcessProbe>('ProcessProbe');
    const apt = await runtime.createApartment({ node: 'b', name: 'fragile', restart: 'on-fault' });
    const crasher = await apt.createObject<Crasher>('Crasher');
    const restarted = new Promise<[Apartment, Apartment]>((resolve) => runtime.once('apartment-restarted', (a, r) => resolve([a, r])));
    const faulted = faultOf(apt);
    await crasher.exit(3).catch(() => undefined);
    const fault = await faulted;
    expect(fault.message, fault.message).to.contain('exited with code 3').and.contain("on node 'b'");
    const [, replacement] = await restarted;
    expect(replacement.hostIdentity).to.equal(`node 'b' (epoch ${b.epoch})`);
    const probe = await replacement.createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.pid(), 'the replacement runs on node b').to.equal(b.pid);
    expect(await neighbour.pid(), 'the other apartment on node b never noticed').to.equal(b.pid);
    release(probe);
    release(neighbour);
  });
});

describe('lib/cluster: an apartment on a node busy in a long synchronous call', () => {
  it('is not taken for one whose session lost frames: a call that came meanwhile is served after it', async () => {
    const nats = await startNatsServer('one');
    await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    const apt = await runtime.createApartment({ node: 'b' });
    const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
    let blocking!: () => void;
    const started = new Promise<void>((resolve) => (blocking = resolve));
    // Ten heartbeats (200 ms each) pass while the thread cannot read the frame of the second call.
    const long = probe.busyAfter(() => blocking(), 2_000);
    await started;
    // A turn later, so the second call leaves in a frame of its own, after the callback's answer.
    await new Promise((r) => setTimeout(r, 100));
    const meanwhile = probe.pid();
    const [pid, again] = await Promise.all([long, meanwhile]);
    expect(again, 'the call sent while the thread was busy was served').to.equal(pid);
    expect(apt.state).to.equal('ready');
    release(probe);
  });
});

describe('lib/cluster: a runtime that closes while a node it works with is frozen', () => {
  it('closes without the frozen node: its apartment there ends, the one it ran for that node ends, and the node ends its side once it runs again', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    const { apt, inFlight } = await busyApartment(runtime, 'b');
    // Both ways: node b runs an apartment for this node, and this node runs one for b.
    expect(await b.ask<number>('place-on', { node: 'a' }), 'b placed an apartment on this node').to.equal(process.pid);
    expect(runtime.node!.hosted()).to.equal(1);
    b.child.kill('SIGSTOP');
    await runtime.close();
    expect(await inFlight, 'the call in flight settles').to.be.instanceOf(ApartmentError);
    expect(apt.state, 'the apartment on the frozen node ended').to.equal('closed');
    expect(runtime.node?.hosted() ?? 0, 'the apartment run for b ended').to.equal(0);
    b.child.kill('SIGCONT');
    await until('node b ended the apartment it ran for this node', async () => (await b.ask<number>('hosted')) === 0);
  });
});
