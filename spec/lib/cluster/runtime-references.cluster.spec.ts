import { expect } from 'chai';
import { ApartmentError, CallCanceledError, CallTimeoutError, DisconnectedError, InUseError, callOptions, release, type Remote, type Runtime } from '../../../lib/index.js';
import { eventuallyTrue as until, startNode, startNodeRuntime } from '../../fixtures/cluster-fixture.js';
import { startNatsServer } from '../../fixtures/nats-server.js';
import { rejection } from '../../fixtures/process-fixture.js';
import type { ProcessProbe } from '../../fixtures/process-probe.js';

type Stats = { published: number; exports: number; proxies: number; links: number };

/** Collect garbage until `check` holds: a proxy this runtime let go of releases its object once collected. */
async function collectedUntil(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  await until(what, async () => {
    globalThis.gc?.();
    return check();
  });
}

/** This runtime publishes a ProcessProbe of a worker apartment of its own as `name`. */
async function publishProbe(runtime: Runtime, name: string): Promise<{ probe: Remote<ProcessProbe>; exportsOfWorker: () => Promise<number> }> {
  const apt = await runtime.createApartment();
  const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
  await runtime.node!.publish(name, probe);
  return { probe, exportsOfWorker: async () => (await apt.stats()).exports };
}

describe('lib/cluster: an object one runtime publishes, another runtime opens', () => {
  it('is called with callbacks both ways, is one proxy however often opened, and leaves every export table empty', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    const { probe, exportsOfWorker } = await publishProbe(runtime, 'probe');
    const used = await b.ask<{ back: number; same: boolean; pid: number }>('ref-use', { key: 'probe' });
    expect(used.pid, 'the object runs in this process, in a worker apartment').to.equal(process.pid);
    expect(used.back, "node b's callback ran there, called from this runtime's worker apartment").to.equal(16);
    expect(used.same, 'opened twice, one proxy').to.equal(true);
    await until('node b released what it opened', async () => (await b.ask<Stats>('references')).proxies === 0);
    await until('this runtime exports nothing to node b', () => runtime.node!.references().exports === 0);
    expect(await runtime.node!.unpublish('probe')).to.equal(true);
    release(probe);
    // The proxy of node b's callback that this runtime forwarded to its worker goes once collected.
    await collectedUntil("the worker apartment's objects and the callback's proxy are released", async () => (await exportsOfWorker()) === 0 && runtime.stats().exports === 0 && runtime.node!.references().proxies === 0);
    expect(runtime.node!.references()).to.include({ published: 0, exports: 0, proxies: 0 });
    await until("node b exports nothing to this runtime any more", async () => (await b.ask<Stats>('references')).exports === 0);
  });

  it('opens an object of another node\'s runtime here, and hands it to an apartment of this runtime, which calls it', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    const pidOfB = await b.ask<number>('ref-publish', { key: 'b-probe' });
    const remote = await runtime.node!.open<ProcessProbe>('b-probe');
    expect(await remote.pid()).to.equal(pidOfB);
    // b's main apartment forwards calls without taking turns of its own: the object's apartment
    // admits them by its class's rules (pid interleaves with a hang), so pid answers meanwhile.
    const stop = new AbortController();
    const hanging = rejection(remote.hang(callOptions({ signal: stop.signal })));
    expect(await remote.pid(), 'a call made while another hangs on the same object answers').to.equal(pidOfB);
    stop.abort();
    expect(await hanging, 'the hanging call is cancelled across both runtimes').to.be.instanceOf(CallCanceledError);
    // The proxy travels on to a worker apartment here, which calls node b's object through this runtime.
    const apt = await runtime.createApartment();
    const local = await apt.createObject<ProcessProbe>('ProcessProbe');
    expect(await local.useObject({ twice: (n: number) => n * 2 } as never, 4), 'a plain call first').to.be.a('number');
    expect(await local.callBack(((n: number) => remote.callBack((m: number) => m + 100, n)) as never, 1), "b's object, called from this runtime's apartment, called this runtime back").to.equal(103);
    release(remote);
    release(local);
    await collectedUntil('no proxy of node b is held here any more', () => runtime.node!.references().proxies === 0);
    await until("node b exports nothing to this runtime", async () => (await b.ask<Stats>('references')).exports === 0);
  });
});

describe('lib/cluster: names of published objects', () => {
  it('are held by one runtime of the cluster at a time; an unknown or badly formed name is refused clearly', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    const { probe } = await publishProbe(runtime, 'shared');
    const taken = await b.ask('ref-publish', { key: 'shared' }).then(() => undefined, (err: Error) => err);
    expect(taken?.message, 'a second publish in the cluster').to.match(/^\[ref-taken\] node 'a' publishes an object as 'shared'/);
    const again = await rejection(runtime.node!.publish('shared', probe));
    expect(again, 'a second publish in this runtime').to.be.instanceOf(InUseError);
    expect(await runtime.node!.unpublish('shared')).to.equal(true);
    expect(await b.ask<number>('ref-publish', { key: 'shared' }), 'free again once unpublished').to.be.a('number');
    const missing = await rejection(runtime.node!.open('nobody-publishes-this'));
    expect(missing).to.be.instanceOf(DisconnectedError);
    expect(missing.message).to.match(/^\[ref-unknown\] no node of cluster 'apartments' publishes an object as 'nobody-publishes-this'/);
    const bad = await rejection(runtime.node!.publish('.dotted', {}));
    expect(bad.message).to.match(/^\[ref-name\]/);
    release(probe);
  });
});

describe('lib/cluster: references between runtimes when a node dies', () => {
  it('releases what a killed runtime held here, and fails a call in flight into a killed runtime and disconnects its objects', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    const { probe } = await publishProbe(runtime, 'held');
    expect(await b.ask('ref-keep', { key: 'held' })).to.equal(true);
    expect(runtime.node!.references().exports, 'node b holds the published object').to.equal(1);
    await b.ask<number>('ref-publish', { key: 'of-b' });
    const remote = await runtime.node!.open<ProcessProbe>('of-b');
    const inFlight = rejection(remote.hang());
    b.child.kill('SIGKILL');
    const err = await inFlight;
    expect(err, String(err)).to.be.instanceOf(ApartmentError);
    expect(err.message).to.contain("the runtime of node 'b'");
    const later = await rejection(remote.pid());
    expect(later, 'its objects are disconnected').to.be.instanceOf(DisconnectedError);
    await until("what node b held here is released once it is counted gone", () => runtime.node!.references().exports === 0);
    release(probe);
  });
});

describe('lib/cluster: a call a runtime forwards for another', () => {
  it("has no deadline of its own: it ends with the call it serves, not at the forwarding runtime's default", async () => {
    const nats = await startNatsServer('one');
    // Node b's runtime gives its own calls one second; this runtime's caller gives a minute.
    const b = await startNode('b', nats.url, {}, { defaultTimeoutMs: 1_000 });
    const runtime = await startNodeRuntime(nats.url);
    const pidOfB = await b.ask<number>('ref-publish', { key: 'slow' });
    const remote = await runtime.node!.open<ProcessProbe>('slow');
    expect(await remote.busy(2_500, callOptions({ timeoutMs: 60_000 })), "b's main apartment forwarded the call past its own default").to.equal(pidOfB);
    // The caller's own deadline still ends the call, there as here.
    const cut = await rejection(remote.hang(callOptions({ timeoutMs: 500 })));
    expect(cut, String(cut)).to.be.instanceOf(CallTimeoutError);
    release(remote);
  });
});

