import { expect } from 'chai';
import { DisconnectedError, globalInterfaceTable, release } from '../../../lib/index.js';
import { eventuallyTrue, startNode, startNodeRuntime } from '../../fixtures/cluster-fixture.js';
import { fixture } from '../../fixtures/runtime-fixture.js';
import type { InitProbe } from '../../fixtures/init-probe.js';
import { startNatsServer } from '../../fixtures/nats-server.js';
import { rejection } from '../../fixtures/process-fixture.js';

const HELLO = 'hi from the registering apartment';

describe('lib/cluster: the global interface table across the runtimes of a cluster', () => {
  it("resolves another runtime's cookie in any apartment, both ways, and revokes it from here; a cookie of no live run is refused", async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    runtime.registerClass('InitProbe', { module: fixture('init-probe.js'), export: 'InitProbe' });
    const ofB = await b.ask<string>('git-register');
    expect(ofB, "a node's cookie names its node and run").to.match(new RegExp(`^[0-9a-f]{32}@b\\.${b.epoch}$`));
    // An apartment of this runtime turns node b's cookie into a reference, and calls it.
    const apt = await runtime.createApartment();
    const probe = await apt.createObject<InitProbe>('InitProbe');
    expect(await probe.fromGit(ofB), 'from a worker apartment here').to.equal(HELLO);
    const held = await globalInterfaceTable.get<{ hello(): Promise<string> }>(ofB);
    expect(await held.hello(), 'from the main apartment').to.equal(HELLO);
    // And node b's apartments resolve this runtime's cookies.
    const ofA = await probe.registerGit();
    expect(ofA).to.match(/@a\./);
    expect(await b.ask<string>('git-get', { key: ofA })).to.equal(HELLO);
    // A cookie of an earlier run of node b, and one of a node nobody runs, name nothing.
    const stale = await rejection(globalInterfaceTable.get(ofB.replace(b.epoch, 'zzz0')));
    expect(stale, String(stale)).to.be.instanceOf(DisconnectedError);
    expect(stale.message).to.match(/^\[git\] the cookie is not registered/);
    // Revoked from an apartment here, node b's entry is gone there too.
    await probe.revokeGit(ofB);
    const revoked = await rejection(b.ask('git-get', { key: ofB }));
    expect(revoked.message).to.match(/^\[git\] the cookie is not registered/);
    expect((await rejection(globalInterfaceTable.get(ofB))).message).to.match(/^\[git\]/);
    await globalInterfaceTable.revoke(ofA);
    release(held);
    release(probe);
    await eventuallyTrue('no proxy of node b is held here any more', () => {
      globalThis.gc?.();
      return runtime.node!.references().proxies === 0;
    });
  });
});
