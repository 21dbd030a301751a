import { expect } from 'chai';
import { ClusterDirectory } from '../../../lib/cluster/cluster-directory.js';
import { InvalidArgumentError } from '../../../lib/index.js';
import { connectNats } from '../../../marshal/transports/nats-connect.js';
import type { NatsClient } from '../../../marshal/transports/nats-client.js';
import { eventuallyTrue, startNode, startNodeRuntime } from '../../fixtures/cluster-fixture.js';
import { startNatsServer } from '../../fixtures/nats-server.js';
import { rejection } from '../../fixtures/process-fixture.js';

describe("lib/cluster/cluster-directory: nodes that start together all open the cluster's directory", () => {
  let connections: NatsClient[] = [];
  afterEach(async () => {
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    connections = [];
  });

  it('lets sixteen nodes make the bucket at once on a server that has none, and every one of them claims and looks up', async () => {
    const nats = await startNatsServer('one');
    connections = await Promise.all(Array.from({ length: 16 }, (_, i) => connectNats([nats.url], `racing node ${i}`, undefined)));
    // The server refuses all but one make of the bucket's stream, with more than one wording (once
    // in CI a node that started beside another was told the subjects overlap an existing stream).
    const directories = await Promise.all(connections.map((nc, i) => ClusterDirectory.open(nc, 'racing', 15_000, `n${i}`, 'e1', () => {})));
    const claims = await Promise.all(directories.map((d, i) => d.claim('cache', `n${i}`)));
    expect(claims.filter(Boolean), `one claim wins: ${claims.join(', ')}`).to.have.length(1);
    const winner = `n${claims.indexOf(true)}`;
    for (const d of directories) expect(await d.lookup('cache')).to.deep.include({ node: winner, value: winner });
    await Promise.all(directories.map((d) => d.close()));
  });
});

describe('lib/cluster/cluster-directory: a renewal waits for the one before it', () => {
  let connections: NatsClient[] = [];
  afterEach(async () => {
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    connections = [];
  });

  it('keeps a claim whose renewals went unanswered for several periods while the server was stopped', async () => {
    const nats = await startNatsServer('one');
    connections = await Promise.all([connectNats([nats.url], 'bucket maker', undefined), connectNats([nats.url], 'renewing node', undefined)]);
    // The first node makes the bucket with a long TTL, so nothing expires while the server is
    // stopped; the second renews every 100 ms (a third of its own lease).
    const maker = await ClusterDirectory.open(connections[0]!, 'slow', 60_000, 'maker', 'e1', () => {});
    const warnings: string[] = [];
    const renewing = await ClusterDirectory.open(connections[1]!, 'slow', 300, 'renewer', 'e1', (m) => warnings.push(m));
    expect(await renewing.claim('cache', 'mine')).to.equal(true);
    const { Kvm } = await import('@nats-io/kv');
    const kv = await new Kvm(connections[0]! as ConstructorParameters<typeof Kvm>[0]).open('slow');
    const revision = async (): Promise<number> => (await kv.get('claim.cache'))?.revision ?? 0;
    await eventuallyTrue('a first renewal', async () => (await revision()) > 1);
    // Stopped for many renewal periods: each renewal meanwhile would rewrite the revision the one
    // still waiting rewrites too, and the server would refuse all but the first once it resumes.
    nats.process.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 1_500));
    nats.process.kill('SIGCONT');
    const resumed = await revision();
    await eventuallyTrue('renewals go on after the server resumed', async () => (await revision()) >= resumed + 3);
    expect(warnings, 'the claim was never taken for lost').to.deep.equal([]);
    expect(await maker.claim('cache', 'theirs'), 'another node still cannot claim it').to.equal(false);
    expect(await maker.lookup('cache')).to.deep.include({ node: 'renewer', value: 'mine' });
    await Promise.all([maker.close(), renewing.close()]);
  });
});

describe('lib/cluster/cluster-directory: a named object is claimed once in the cluster', () => {
  it('lets exactly one of several racing nodes claim a name, tells every node who holds it, and frees it on release', async () => {
    const nats = await startNatsServer('one');
    const [b, c] = await Promise.all([startNode('b', nats.url), startNode('c', nats.url)]);
    const runtime = await startNodeRuntime(nats.url);
    const claims = await Promise.all([
      runtime.node!.claim('cache', 'held by a'),
      b.ask<boolean>('claim', { key: 'cache', value: 'held by b' }),
      c.ask<boolean>('claim', { key: 'cache', value: 'held by c' }),
    ]);
    expect(claims.filter(Boolean), `one claim wins: ${claims.join(', ')}`).to.have.length(1);
    const winner = ['a', 'b', 'c'][claims.indexOf(true)]!;
    const seen = await Promise.all([runtime.node!.lookup('cache'), b.ask('lookup', { key: 'cache' }), c.ask('lookup', { key: 'cache' })]);
    for (const holding of seen) expect(holding).to.deep.include({ node: winner, value: `held by ${winner}` });
    const holder = { a: undefined, b, c }[winner];
    if (holder) await holder.ask('release', { key: 'cache' });
    else await runtime.node!.release('cache');
    expect(await runtime.node!.lookup('cache'), 'released: nobody holds it').to.equal(undefined);
    expect(await c.ask<boolean>('claim', { key: 'cache', value: 'held by c' }), 'and it can be claimed again').to.equal(true);
  });

  it('keeps a claim alive while its node renews it, and lets it lapse once the node is killed', async () => {
    const nats = await startNatsServer('one');
    // The first node to make the cluster's bucket sets its TTL: this one, with a short lease.
    const runtime = await startNodeRuntime(nats.url, 'a', { leaseMs: 1_000 });
    const b = await startNode('b', nats.url, { leaseMs: 1_000 });
    expect(await b.ask<boolean>('claim', { key: 'cache', value: 'b' })).to.equal(true);
    // Several leases go by: node b's renewals keep the claim.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await runtime.node!.claim('cache', 'a'), 'still held by b').to.equal(false);
    b.child.kill('SIGKILL');
    await eventuallyTrue('the claim of the killed node lapses', async () => (await runtime.node!.lookup('cache')) === undefined);
    expect(await runtime.node!.claim('cache', 'a'), 'then another node claims it').to.equal(true);
  });

  it('refuses keys and values the directory cannot hold with InvalidArgumentError', async () => {
    const nats = await startNatsServer('one');
    const runtime = await startNodeRuntime(nats.url);
    for (const key of ['', '.cache', 'cache.', 'a b', 'x'.repeat(129), 'cache>']) {
      const err = await rejection(runtime.node!.claim(key, 'v'));
      expect(err, key).to.be.instanceOf(InvalidArgumentError);
      expect(err.message).to.match(/^\[claim-key\]/);
    }
    const err = await rejection(runtime.node!.claim('cache', 'v'.repeat(4_097)));
    expect(err).to.be.instanceOf(InvalidArgumentError);
    expect(err.message).to.match(/^\[claim-value\]/);
  });
});
