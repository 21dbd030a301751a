import { expect } from 'chai';
import { WritableStream } from 'node:stream/web';
import {
  ApartmentError, CallCanceledError, CallTimeoutError, DeadlockError, InUseError, InvalidArgumentError, MarshalError, byRef, callOptions, release,
  type Apartment, type Remote, type Runtime,
} from '../../../lib/index.js';
import type { Chain } from '../../fixtures/admission-classes.js';
import type { Tally } from '../../fixtures/assignment-classes.js';
import { fixture } from '../../fixtures/runtime-fixture.js';
import { eventuallyTrue as until, startNode, startNodeRuntime } from '../../fixtures/cluster-fixture.js';
import type { Holder } from '../../fixtures/holder.js';
import { startNatsServer } from '../../fixtures/nats-server.js';
import { HANG_GUARD_MS, rejection } from '../../fixtures/process-fixture.js';
import type { Counter, ProcessProbe } from '../../fixtures/process-probe.js';
import type { Streamer } from '../../fixtures/stream-classes.js';

/** Wait until `apartments` and the main apartment export nothing. */
async function exportsEmpty(runtime: Runtime, apartments: Apartment[]): Promise<void> {
  const end = Date.now() + HANG_GUARD_MS;
  for (;;) {
    const counts = await Promise.all(apartments.map(async (apt) => (await apt.stats()).exports));
    if (counts.every((n) => n === 0) && runtime.stats().exports === 0) return;
    if (Date.now() > end) throw new Error(`exports left: ${counts.join(', ')} in the apartments, ${runtime.stats().exports} in the main apartment`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('lib/cluster: an apartment on another node serves calls and callbacks both ways', () => {
  it('runs in the other node\'s process, calls back into this one, hands out objects, and ends with empty export tables', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    const apt = await runtime.createApartment({ node: 'b' });
    expect(apt.hostIdentity).to.equal(`node 'b' (epoch ${b.epoch})`);
    expect(apt.label, 'messages say where it runs').to.equal(`apartment '${apt.name}' (${apt.id}) on node 'b'`);
    expect(apt.transport).to.equal('nats');
    const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.pid(), 'it runs in node b\'s process').to.equal(b.pid);
    expect(await probe.callBack((n: number) => n * 10, 4), 'a callback into this node').to.equal(41);
    const doubler = byRef({ twice: (n: number) => n * 2 });
    expect(await probe.useObject(doubler, 21), 'an object of this node called from node b').to.equal(42);
    const counter = await probe.makeCounter() as unknown as Remote<Counter>;
    expect(await counter.increment()).to.equal(1);
    expect(await probe.callBack(async (n: number) => (await counter.increment()) + n, 100), 'a callback that calls back into node b').to.equal(103);
    release(counter);
    release(doubler);
    release(probe);
    // Node b's proxies for the callbacks and `doubler` go when its thread collects them (the
    // backstop), which an idle thread may not do for minutes: collect there now.
    const janitor = await apt.createObject<{ collect(): Promise<boolean> }>('Janitor');
    expect(await janitor.collect()).to.equal(true);
    release(janitor);
    await exportsEmpty(runtime, [apt]);
    await apt.close();
    expect(apt.state).to.equal('closed');
  });

  it('lets node b place an apartment on this node and call it the same way', async () => {
    const nats = await startNatsServer('one');
    const runtime = await startNodeRuntime(nats.url);
    const b = await startNode('b', nats.url);
    const answer = await b.ask<{ pid: number; back: number }>('call-on', { node: 'a' });
    expect(answer.pid, 'node b\'s apartment ran in this process').to.equal(process.pid);
    expect(answer.back, 'and called back into node b').to.equal(16);
    expect(runtime.stats().exports).to.equal(0);
  });
});

describe('lib/cluster: identity holds through a third node', () => {
  it('hands an object of node b to node c and back as the same proxy, one object counted by both', async () => {
    const nats = await startNatsServer('one');
    const [b, c] = await Promise.all([startNode('b', nats.url), startNode('c', nats.url)]);
    const runtime = await startNodeRuntime(nats.url);
    const onB = await runtime.createApartment({ node: 'b' });
    const onC = await runtime.createApartment({ node: 'c' });
    const probe = await onB.createObject<ProcessProbe>('ProcessProbe');
    const counter = await probe.makeCounter() as unknown as Remote<Counter>;
    release(probe);
    const holder = await onC.createObject<Holder>('Holder');
    await holder.keep(counter);
    await holder.keep(counter);
    expect(await holder.same(counter, counter), 'one proxy on node c for the object on node b').to.equal(true);
    expect(await holder.callKept(1, 'increment'), 'node c calls node b').to.equal(1);
    expect(await holder.callKept(0, 'pid'), 'and it runs on node b').to.equal(b.pid).and.not.equal(c.pid);
    expect(await holder.give(0), 'it comes back as this node\'s proxy').to.equal(counter);
    expect(await counter.increment(), 'one object').to.equal(2);
    await holder.releaseAll();
    release(counter);
    release(holder);
    await exportsEmpty(runtime, [onB, onC]);
  });
});

describe('lib/cluster: deadlines, cancellation, causality and deadlock detection cross nodes', () => {
  it('keeps one causality id from this node through node b and an apartment on node c and back', async () => {
    const nats = await startNatsServer('one');
    await Promise.all([startNode('b', nats.url), startNode('c', nats.url)]);
    const runtime = await startNodeRuntime(nats.url);
    const onB = await (await runtime.createApartment({ node: 'b' })).createObject<Chain>('Chain');
    const onC = await (await runtime.createApartment({ node: 'c' })).createObject<Chain>('Chain');
    const ids = await onB.hop([onC], true);
    expect(ids, 'both nodes saw the call, before and after an await').to.have.length(4);
    expect(new Set(ids).size, `one causality id: ${ids.join(', ')}`).to.equal(1);
    release(onB);
    release(onC);
  });

  it('ends a call at its deadline and on cancel, and the apartment serves on', async () => {
    const nats = await startNatsServer('one');
    await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    const apt = await runtime.createApartment({ node: 'b' });
    const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
    const timedOut = await rejection(probe.hang(callOptions({ timeoutMs: 200 })));
    expect(timedOut, String(timedOut)).to.be.instanceOf(CallTimeoutError);
    const abort = new AbortController();
    const waiting = rejection(probe.hang(callOptions({ signal: abort.signal })));
    abort.abort(new Error('the user gave up'));
    const canceled = await waiting;
    expect(canceled, String(canceled)).to.be.instanceOf(CallCanceledError);
    expect(await probe.pid(), 'it serves on').to.be.a('number');
    release(probe);
  });

  it('refuses one call of a cycle between apartments on two nodes with DeadlockError, by detection rather than the deadline', async () => {
    const nats = await startNatsServer('one');
    await Promise.all([startNode('b', nats.url), startNode('c', nats.url)]);
    const runtime = await startNodeRuntime(nats.url);
    const left = await runtime.createApartment({ node: 'b', name: 'left', defaultTimeoutMs: 60_000 });
    const right = await runtime.createApartment({ node: 'c', name: 'right', defaultTimeoutMs: 60_000 });
    const x = await left.createObject<Chain>('Chain');
    const y = await right.createObject<Chain>('Chain');
    const results = await Promise.allSettled([x.pingPong(y, 30), y.pingPong(x, 30)]);
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(failed, 'one call of the cycle is refused').to.have.length(1);
    expect(failed[0]!.reason, String(failed[0]!.reason)).to.be.instanceOf(DeadlockError);
    expect((failed[0]!.reason as Error).message).to.contain(`'left' (${left.id}) on node 'b'`).and.contain(`'right' (${right.id}) on node 'c'`);
    release(x);
    release(y);
  });
});

describe('lib/cluster: streams cross nodes', () => {
  it('carries streams both ways in order (async generators, ReadableStream, WritableStream), stops b\'s producer on break, and ends with empty export tables', async () => {
    const nats = await startNatsServer('one');
    await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    runtime.registerClass('Streamer', { module: fixture('stream-classes.js'), export: 'Streamer' });
    const apt = await runtime.createApartment({ node: 'b' });
    const streamer = await apt.createObject<Streamer>('Streamer');
    const seen: number[] = [];
    for await (const n of await streamer.numbers(500, 16)) seen.push(n);
    expect(seen, 'every item, in order').to.deep.equal(Array.from({ length: 500 }, (_, i) => i));
    const read: number[] = [];
    for await (const n of await streamer.plainReadable(40) as unknown as AsyncIterable<number>) read.push(n);
    expect(read).to.deep.equal(Array.from({ length: 40 }, (_, i) => i));
    let taken = 0;
    for await (const _ of await streamer.endless()) if (++taken === 10) break;
    // Breaking off returns the iterator: the endless producer on node b stops, having run ahead by at most its window (8).
    await until('both finite producers ended, and the endless one stopped', async () => (await streamer.closed()) === 3);
    expect(await streamer.produced(), 'the endless producer ran ahead by at most its window').to.be.at.most(500 + 40 + 10 + 8 + 1);
    // A stream from this node, summed by the apartment on node b.
    async function* local(): AsyncGenerator<number> {
      for (let i = 1; i <= 100; i++) yield i;
    }
    expect(await streamer.sum(local()), 'a stream of this node read on node b').to.equal(5050);
    const written: number[] = [];
    let closed = false;
    const sink = new WritableStream<number>({ write: (x) => void written.push(x), close: () => void (closed = true) });
    await streamer.writeTo(sink as never, 300);
    expect(written, 'node b wrote to a WritableStream of this node, in order').to.deep.equal(Array.from({ length: 300 }, (_, i) => i));
    expect(closed, 'and closed it').to.equal(true);
    release(streamer);
    await exportsEmpty(runtime, [apt]);
  });

  it('rejects the next read with ApartmentError when node b is killed mid-stream', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    runtime.registerClass('Streamer', { module: fixture('stream-classes.js'), export: 'Streamer' });
    const apt = await runtime.createApartment({ node: 'b' });
    const streamer = await apt.createObject<Streamer>('Streamer');
    const iterator = (await streamer.stalled())[Symbol.asyncIterator]();
    expect(await iterator.next()).to.deep.equal({ value: 1, done: false });
    const next = rejection(iterator.next());
    b.child.kill('SIGKILL');
    const err = await next;
    expect(err, String(err)).to.be.instanceOf(ApartmentError);
    expect(runtime.stats().exports, 'nothing of this node is held for node b any more').to.equal(0);
  });
});

describe('lib/cluster: what cannot leave a machine is refused at the node boundary', () => {
  it('refuses shared memory both ways with a MarshalError naming the path, and the link serves on', async () => {
    const nats = await startNatsServer('one');
    await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    const apt = await runtime.createApartment({ node: 'b' });
    const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
    const returned = await rejection(probe.shared());
    expect(returned, String(returned)).to.be.instanceOf(MarshalError);
    const holder = await apt.createObject<Holder>('Holder');
    const sent = await rejection(holder.keep({ memory: new SharedArrayBuffer(8) }));
    expect(sent, String(sent)).to.be.instanceOf(MarshalError);
    expect(sent.message).to.contain('memory');
    expect(await holder.keep('still serving')).to.equal(1);
    release(holder);
    release(probe);
  });
});

describe('lib/cluster: nodes are found by name, and a name is held once', () => {
  it('fails placement on a node nobody runs at once with [node-unreachable], not at a timeout', async () => {
    const nats = await startNatsServer('one');
    const runtime = await startNodeRuntime(nats.url);
    const err = await rejection(runtime.createApartment({ node: 'nobody' }));
    expect(err, String(err)).to.be.instanceOf(ApartmentError);
    expect(err.message).to.contain('[node-unreachable]').and.contain("'nobody'");
  });

  it('refuses a second node of a name that a live node holds', async () => {
    const nats = await startNatsServer('one');
    await startNode('b', nats.url);
    const err = await rejection(startNode('b', nats.url));
    expect(err.message).to.contain('[node-name-taken]');
  });

  it('refuses this runtime as a node of a taken name with InUseError, and leaves no runtime running', async () => {
    const nats = await startNatsServer('one');
    await startNode('b', nats.url);
    const err = await rejection(startNodeRuntime(nats.url, 'b'));
    expect(err, String(err)).to.be.instanceOf(InUseError);
    expect(err.message).to.match(/^\[node-name-taken\]/);
    const runtime = await startNodeRuntime(nats.url, 'a');
    expect(runtime.node?.name, 'a runtime starts again at once').to.equal('a');
  });
});

describe('lib/cluster: assignment policies place objects on a node', () => {
  it('runs a round-robin pool and thread per object on node b, and refuses a plugin that names a node', async () => {
    const nats = await startNatsServer('one');
    const b = await startNode('b', nats.url);
    const runtime = await startNodeRuntime(nats.url);
    const pooled = await Promise.all(Array.from({ length: 4 }, () => runtime.createObjectWith<ProcessProbe>({ assignment: { policy: 'round-robin', apartments: 2, node: 'b' } }, 'ProcessProbe')));
    const places = await Promise.all(pooled.map(async (p) => [await p.pid(), await p.thread()] as const));
    expect(places.map(([pid]) => pid), 'every object runs on node b').to.deep.equal([b.pid, b.pid, b.pid, b.pid]);
    expect(places[2]![1], 'object 2 shares object 0\'s thread').to.equal(places[0]![1]);
    expect(places[3]![1], 'object 3 shares object 1\'s thread').to.equal(places[1]![1]);
    expect(places[0]![1], 'two threads').to.not.equal(places[1]![1]);
    const own = await Promise.all([0, 1].map(() => runtime.createObjectWith<ProcessProbe>({ assignment: { policy: 'thread-per-object', node: 'b' } }, 'ProcessProbe')));
    const ownThreads = await Promise.all(own.map((p) => p.thread()));
    expect(new Set([...ownThreads, places[0]![1], places[1]![1]]).size, 'a thread per object, apart from the pool').to.equal(4);
    runtime.registerClass('Tally', { module: fixture('assignment-classes.js'), export: 'Tally' });
    const plugin = await (await runtime.createApartment({ name: 'plugin' })).createObject<Tally>('Tally');
    const refused = await rejection(plugin.createFromHere({ policy: 'single-thread', node: 'b' }));
    expect(refused, String(refused)).to.be.instanceOf(InvalidArgumentError);
    expect(refused.message).to.contain('only the host may name a node');
    for (const p of [...pooled, ...own, plugin]) release(p);
  });
});
