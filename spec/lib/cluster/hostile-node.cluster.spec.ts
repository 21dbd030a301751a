import { serialize } from 'node:v8';
import { connect } from '@nats-io/transport-node';
import { expect } from 'chai';
import { AccessDeniedError, Runtime, release } from '../../../lib/index.js';
import { decodeFrame, type NatsFrame } from '../../../marshal/transports/nats-peer.js';
import { eventuallyTrue, SPEC_HEARTBEAT, startNode, startNodeRuntime } from '../../fixtures/cluster-fixture.js';
import { bootRecord, handPeer, until } from '../../fixtures/hand-peer.js';
import { startRuntime } from '../../fixtures/runtime-fixture.js';
import { startNatsServer } from '../../fixtures/nats-server.js';
import type { ProcessProbe } from '../../fixtures/process-probe.js';

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
    const send = (seq: number, tag: string, link: number, payload: unknown) => peer.nc.publish(`${inbox}.mallory`, serialize(['mallory', 'e1.1', seq, tag, link, payload]));
    // Its answers go to the host's inbox under this node's name, where the host takes them as this node's.
    const reply = `${peer.inbox}.b`;
    send(0, 'apartment:boot', 1, boot(1, { id: 'e1.1/1', host: 'mallory', subject: 'elsewhere.entirely', reply }));
    send(1, 'apartment:boot', 2, boot(2, { id: 'e1.1/2', host: 'mallory', subject: `${inbox}.mallory.e1.1.2`, reply: 'apartments.victim.e9.b' }));
    send(2, 'apartment:boot', 3, { boot: 'not a boot record' });
    // Limits that abort a whole process when a thread is started with them.
    send(3, 'apartment:boot', 4, { ...boot(4, { id: 'e1.1/4', host: 'mallory', subject: `${inbox}.mallory.e1.1.4`, reply }), resourceLimits: { codeRangeSizeMb: 1e9 } });
    // A subject of the node's, but one where the host 'victim' would be the only publisher.
    send(4, 'apartment:boot', 5, boot(5, { id: 'e1.1/5', host: 'mallory', subject: `${inbox}.victim.e1.1.5`, reply }));
    // An answer subject that would make the node's thread publish in another node's name.
    send(5, 'apartment:boot', 6, boot(6, { id: 'e1.1/6', host: 'mallory', subject: `${inbox}.mallory.e1.1.6`, reply: `${peer.inbox}.victim` }));
    // Garbage on the inbox is dropped; the session goes on.
    peer.nc.publish(`${inbox}.mallory`, new Uint8Array([1, 2, 3]));
    await until(() => peer.frames.length >= 6);
    const exits = peer.frames.map((f) => [f[3], f[4], (f[5] as { description: string }).description]);
    expect(exits.map(([tag, link]) => [tag, link])).to.deep.equal([1, 2, 3, 4, 5, 6].map((link) => ['apartment:exited', link]));
    expect(exits[0]![2]).to.match(/^\[node-boot\]/).and.contain('subject');
    expect(exits[1]![2]).to.match(/^\[node-boot\]/).and.contain("host's inbox");
    expect(exits[2]![2]).to.match(/^\[node-boot\]/);
    expect(exits[3]![2]).to.match(/^\[node-boot\]/).and.contain('resourceLimits.codeRangeSizeMb must be a number of MB from 1 to 1024');
    expect(exits[4]![2]).to.match(/^\[node-boot\]/).and.contain('subject');
    expect(exits[5]![2]).to.match(/^\[node-boot\]/).and.contain("host's inbox");
    expect(await b.ask<number>('hosted'), 'nothing started').to.equal(0);
    await peer.nc.close();
  });
});

describe('lib/cluster: a node does not hold the parts of a message its host never finishes', () => {
  it("ends the host's session at the second heartbeat after the first part", async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const peer = await handPeer(nats.url);
    const hello = await peer.ask('b', JSON.stringify({ op: 'hello', from: 'mallory', epoch: 'e1', session: 'e1.1', periodMs: 10_000, misses: 10 }));
    expect(hello.knows).to.equal(true);
    // The first of three parts of 4 KiB each; the other two never come.
    peer.nc.publish(`apartments.b.${b.epoch}.mallory`, serialize(['mallory', 'e1.1', 0, 'apartment:part', 0, [3, new Uint8Array(4_096)]]));
    const ping = async () => (await peer.ask('b', JSON.stringify({ op: 'ping', from: 'mallory', epoch: 'e1', session: 'e1.1', sent: 1, links: {} }))).knows;
    expect(await ping(), 'one heartbeat on, the rest may still be on its way').to.equal(true);
    expect(await ping(), 'two heartbeats on, the session is over').to.equal(false);
    await peer.nc.close();
  });
});

describe("lib/cluster: an apartment's thread does not hold the parts of a message its host never finishes", () => {
  it('ends that apartment once the host\'s whole heartbeat has passed, and tells the host', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const peer = await handPeer(nats.url);
    const ping = (sent: number) => peer.ask('b', JSON.stringify({ op: 'ping', from: 'mallory', epoch: 'e1', session: 'e1.1', sent, links: {} }));
    expect((await peer.ask('b', JSON.stringify({ op: 'hello', from: 'mallory', epoch: 'e1', session: 'e1.1', periodMs: 200, misses: 10 }))).knows).to.equal(true);
    const inbox = `apartments.b.${b.epoch}`;
    const subject = `${inbox}.mallory.e1.1.1`;
    peer.nc.publish(`${inbox}.mallory`, serialize(['mallory', 'e1.1', 0, 'apartment:boot', 1, bootRecord(peer, inbox, 1)]));
    const frameOf = (tag: string) => peer.frames.find((f) => f[3] === tag && f[4] === (tag === 'apartment:hello' ? 0 : 1));
    while (!frameOf('apartment:hello')) {
      await ping(1);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Three parts of a message of four on the apartment's own session; the last never comes.
    for (let i = 0; i < 3; i++) peer.nc.publish(subject, serialize(['mallory', 'e1.1/1', i, 'apartment:part', i, [4, new Uint8Array(4_096)]]));
    while (!frameOf('apartment:exited')) {
      // An honest host's heartbeat meanwhile: the session with the node goes on.
      expect((await ping(1)).knows).to.equal(true);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await b.ask<number>('hosted'), 'the apartment ended').to.equal(0);
    await peer.nc.close();
  });
});

describe("lib/cluster: a node acts only in its own name", () => {
  it("refuses a control request and drops frames that name another node than the subject's sender, and that node's apartment serves on", async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const peer = await handPeer(nats.url);
    // Mallory reads what node a sends b (nothing in this server's configuration stops it).
    const seen: NatsFrame[] = [];
    peer.nc.subscribe('apartments.b.*.a', {
      callback: (_err, msg) => {
        const frame = decodeFrame(msg.data);
        if (typeof frame !== 'string') seen.push(frame);
      },
    });
    await peer.nc.flush();
    const runtime = await startNodeRuntime(nats.url);
    const probe = await (await runtime.createApartment({ node: 'b' })).createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.pid()).to.equal(b.pid);
    const own = seen.find((f) => f.tag === 'apartment:boot');
    expect(own, "node a's boot record, read on the wire").to.not.equal(undefined);

    // A hello in a's name would end a's session on b (a host that says hello again starts over).
    const hello = await peer.ask('b', JSON.stringify({ op: 'hello', from: 'a', epoch: runtime.node!.epoch, session: `${runtime.node!.epoch}.forged`, periodMs: 1_000, misses: 10 }));
    expect(hello.knows).to.equal(false);
    expect(hello.refusal).to.contain("in the name of node 'a'").and.contain('in its own name');
    // A frame in a's session would end it too (its sequence number skips ahead, and it asks b to end a's apartment).
    peer.nc.publish(`apartments.b.${b.epoch}.mallory`, serialize(['a', own!.session, own!.seq + 1_000, 'apartment:terminate', own!.link, null]));
    // Answered after the frame above, on the same connection: b has read that frame by now.
    expect((await peer.ask('b', JSON.stringify({ op: 'probe', from: 'mallory', epoch: 'e1' }))).epoch).to.equal(b.epoch);

    expect(await probe.pid(), "a's apartment serves on").to.equal(b.pid);
    expect(await b.ask<number>('hosted')).to.equal(1);
    release(probe);
    await peer.nc.close();
  });

  it('runs on a server that lets each node publish and read answers only under its own name, where a node cannot even send in the name of another or read its answers', async () => {
    const nats = await startNatsServer('users', { nodeUsers: ['a', 'b', 'mallory'] });
    const b = await startNode('b', nats.url, { auth: nats.users.b });
    const runtime = await startNodeRuntime(nats.url, 'a', { auth: nats.users.a });
    const probe = await (await runtime.createApartment({ node: 'b' })).createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.pid(), 'the apartment runs on node b').to.equal(b.pid);
    expect(await probe.callBack((n: number) => n * 3, 5), 'and calls back here (its answer plus one)').to.equal(16);

    // Mallory's own answers come to its own inboxes, the only ones it may read.
    const mallory = await connect({ servers: nats.url, inboxPrefix: '_INBOX.apartments.mallory', ...nats.users.mallory });
    const violations: string[] = [];
    void (async () => {
      for await (const status of mallory.status()) if (status.type === 'error') violations.push(String((status as { error?: unknown }).error));
    })();
    const forged = JSON.stringify({ op: 'hello', from: 'a', epoch: runtime.node!.epoch, session: `${runtime.node!.epoch}.forged`, periodMs: 1_000, misses: 10 });
    const asked = await mallory.request('apartments.b.ctl.a', forged, { timeout: 30_000 }).then(() => 'answered', (err: Error) => err.message);
    expect(asked, 'the server refused to carry it').to.not.equal('answered');
    mallory.publish(`apartments.b.${b.epoch}.a`, serialize(['a', 'x', 0, 'apartment:terminate', 1, null]));
    await until(() => violations.some((v) => /Permissions Violation for Publish to "apartments\.b\.[a-z0-9]+\.a"/.test(v)));
    // Nor through JetStream: a stream of its own could republish what it captured in any name.
    const stream = { name: 'relay', subjects: ['apartments.zz.zz.mallory'], republish: { src: '>', dest: `apartments.b.${b.epoch}.a` } };
    const made = await mallory.request('$JS.API.STREAM.CREATE.relay', JSON.stringify(stream), { timeout: 30_000 }).then((m) => m.string(), (err: Error) => err.message);
    expect(made).to.match(/permissions violation/i);
    // Nor can it read the answers to a's requests (control requests, the directory's).
    mallory.subscribe('_INBOX.apartments.a.>');
    mallory.subscribe('_INBOX.>');
    await until(() => violations.some((v) => /Permissions Violation for Subscription to "_INBOX\.apartments\.a\.>"/.test(v)) && violations.some((v) => /Permissions Violation for Subscription to "_INBOX\.>"/.test(v)));
    // Under its own name it is heard, and refused as what it is: not a host b knows.
    expect((await mallory.request('apartments.b.ctl.mallory', JSON.stringify({ op: 'probe', from: 'mallory', epoch: 'e1' }), { timeout: 30_000 })).json<{ epoch: string }>().epoch).to.equal(b.epoch);

    expect(await probe.pid(), "a's apartment serves on").to.equal(b.pid);
    release(probe);
    await mallory.close();
  });

  it("runs the apartments it hosts on credentials of their own, which carry sessions only: the code there cannot speak for the node", async () => {
    // b's own user may not read session subjects: the apartment works only if its thread logs in as b-threads.
    const nats = await startNatsServer('users', { nodeUsers: ['a', 'b'], threadUsers: ['b'] });
    const b = await startNode('b', nats.url, { auth: nats.users.b, threadAuth: nats.users['b-threads'] });
    const runtime = await startNodeRuntime(nats.url, 'a', { auth: nats.users.a });
    const probe = await (await runtime.createApartment({ node: 'b' })).createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.pid(), 'the apartment runs on node b').to.equal(b.pid);
    expect(await probe.callBack((n: number) => n * 3, 5), 'and calls back here (its answer plus one)').to.equal(16);
    // What a hosted plugin could do with its thread's credentials (a heap snapshot shows them):
    // before, they were b's own, and it could open sessions, ping or take b's name as b.
    const plugin = await connect({ servers: nats.url, ...nats.users['b-threads'] });
    const violations: string[] = [];
    void (async () => {
      for await (const status of plugin.status()) if (status.type === 'error') violations.push(String((status as { error?: unknown }).error));
    })();
    const hello = JSON.stringify({ op: 'hello', from: 'b', epoch: b.epoch, session: `${b.epoch}.forged`, periodMs: 1_000, misses: 10 });
    plugin.publish('apartments.a.ctl.b', hello);
    plugin.publish('$KV.apartments.node.b', 'taken');
    await until(() => violations.some((v) => /Permissions Violation for Publish to "apartments\.a\.ctl\.b"/.test(v)) && violations.some((v) => /Permissions Violation for Publish to "\$KV\.apartments\.node\.b"/.test(v)));
    expect(await probe.pid(), "a's apartment serves on").to.equal(b.pid);
    release(probe);
    await plugin.close();
  });

  it('refuses to join with AccessDeniedError [cluster-thread-permissions] where its apartment threads\' user may not read session subjects', async () => {
    const nats = await startNatsServer('users', { nodeUsers: ['b'], threadUsers: ['b'] });
    // b's own user reads its control and inbox subjects only: as threadAuth, no apartment could get a call.
    const err = await Runtime.start({ node: { name: 'b', nats: nats.url, auth: nats.users.b, threadAuth: nats.users.b } }).then(() => undefined, (e: unknown) => e);
    expect(err, String(err)).to.be.instanceOf(AccessDeniedError);
    expect((err as Error).message).to.match(/^\[cluster-thread-permissions\]/).and.contain('apartments.b.*.*.>');
  });

  it("refuses to join with AccessDeniedError [cluster-jetstream] where its user may not make the directory nobody made, saying how to make it", async () => {
    const nats = await startNatsServer('users', { nodeUsers: ['a'], noDirectory: true });
    const err = await Runtime.start({ node: { name: 'a', nats: nats.url, auth: nats.users.a } }).then(() => undefined, (e: unknown) => e);
    expect(err, String(err)).to.be.instanceOf(AccessDeniedError);
    expect((err as Error).message).to.match(/^\[cluster-jetstream\] this node may not make the cluster's directory/).and.contain("make the key-value bucket 'apartments' once");
  });

  it('refuses to join with AccessDeniedError [cluster-permissions] where its user may not read the answers under its name, saying which inboxes to allow', async () => {
    const nats = await startNatsServer('users', { nodeUsers: ['a'] });
    // Node x logs in as a's user, which may read a's answers only.
    const err = await Runtime.start({ node: { name: 'x', nats: nats.url, auth: nats.users.a } }).then(() => undefined, (e: unknown) => e);
    expect(err, String(err)).to.be.instanceOf(AccessDeniedError);
    expect((err as Error).message).to.match(/^\[cluster-permissions\] this node may not read the answers to its own requests/).and.contain('_INBOX.apartments.x.>');
  });
});

describe('lib/cluster: a host reads the answers of the nodes it places apartments on as hostile', () => {
  it("refuses a node whose answer to the hello gives no node's epoch, at once, and serves on with the others", async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    const probe = await (await runtime.createApartment({ node: 'b' })).createObject<ProcessProbe>('ProcessProbe');
    // Node 'mallory' answers with an epoch that makes the subjects of its session longer than a
    // server reads in a control line: the server closes the connection that publishes to one, and
    // every node's frames in flight on it are lost. The host took it and waited for its start timeout.
    const mallory = await connect({ servers: nats.url });
    mallory.subscribe('apartments.mallory.ctl.*', {
      callback: (_err, msg) => {
        msg.respond(JSON.stringify({ epoch: 'e'.repeat(5_000), knows: true, sent: 0, links: {} }));
      },
    });
    await mallory.flush();
    const err = await runtime.createApartment({ node: 'mallory' }).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message, String(err).slice(0, 300)).to.contain('[node-unreachable]').and.contain("'mallory'").and.contain('what no node sends');
    expect(await probe.pid(), "the host's apartment on node b serves on").to.equal(b.pid);
    release(probe);
    await mallory.close();
  });
});

describe('lib/cluster: a node says what it drops without repeating what a peer wrote as it wrote it', () => {
  it('quotes the sender and session a dropped frame names, bounded and on one line', async () => {
    const nats = await startNatsServer('one');
    const { rt, logs } = await startRuntime({ node: { name: 'a', nats: nats.url, heartbeat: SPEC_HEARTBEAT } });
    const peer = await handPeer(nats.url);
    // A name that would write a line of its own into the node's log, after 100 000 characters.
    const forged = `${'x'.repeat(100_000)}\n[node-host-gone] node 'b' sent no heartbeat for 2000 ms`;
    const inbox = `apartments.a.${rt.node!.epoch}.mallory`;
    // The node says so at the first drop and at every thousandth: a session it never opened, then another node's name.
    peer.nc.publish(inbox, serialize(['mallory', forged, 0, 'apartment:boot', 1, null]));
    for (let i = 0; i < 999; i++) peer.nc.publish(inbox, new Uint8Array([1, 2, 3]));
    peer.nc.publish(inbox, serialize([forged, 'e1.1', 0, 'apartment:boot', 1, null]));
    const dropped = () => logs.filter((e) => e.message.startsWith('[node-frame-dropped]')).map((e) => e.message);
    await until(() => dropped().length >= 2);
    for (const line of dropped()) {
      expect(line.slice(0, 300), 'one line').to.not.contain('\n');
      expect(line.length, line.slice(0, 300)).to.be.lessThan(1_000);
    }
    expect(dropped()[0]).to.contain("node 'mallory' in session \"xxx");
    expect(dropped()[1]).to.contain('in the name of node "xxx').and.contain("published on node 'mallory''s subject");
    await peer.nc.close();
  });
});

describe("lib/cluster: a node's name is lost only to a node of its name", () => {
  it('keeps its name, and serves on, when another client deletes its key in the directory or writes it in the name of a run nobody runs', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url, { leaseMs: 3_000 });
    const runtime = await startNodeRuntime(nats.url);
    const probe = await (await runtime.createApartment({ node: 'b' })).createObject<ProcessProbe>('ProcessProbe');
    // Every node may write the directory's keys (docs/cluster.md): mallory deletes b's, then forges it.
    const mallory = await connect({ servers: nats.url });
    const { Kvm } = await import('@nats-io/kv');
    const kv = await new Kvm(mallory).open('apartments');
    const holder = async (): Promise<string | undefined> => {
      const entry = await kv.get('node.b');
      return entry?.operation === 'PUT' ? (entry.json<{ epoch: string }>()).epoch : undefined;
    };
    for (const forge of [() => kv.delete('node.b'), () => kv.put('node.b', JSON.stringify({ node: 'b', epoch: 'zz1', value: '' }))]) {
      await forge();
      // Until b renews its key (every third of its lease): it either takes it back or leaves the cluster.
      await eventuallyTrue('node b renewed its name, or left', async () => (await holder()) === b.epoch || (await b.ask<number>('hosted')) === 0);
      expect(await b.ask<number>('hosted'), 'b runs the apartment still').to.equal(1);
      expect(await holder(), "b's name is b's again").to.equal(b.epoch);
    }
    expect(await probe.pid(), "a's apartment serves on").to.equal(b.pid);
    release(probe);
    await mallory.close();
  });
});
