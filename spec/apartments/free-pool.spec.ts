import { expect } from 'chai';
import { BroadcastChannel } from 'node:worker_threads';
import { CallCanceledError, CallRejectedError, ContractViolationError, DisconnectedError, callOptions, isProxy, pipeline, release, type Remote, type Runtime } from '../../lib/index.js';
import type { AgileCounter, NaiveCounter, SharedCounter } from '../fixtures/free-classes.js';
import type { Holder } from '../fixtures/holder.js';
import type { Hostile } from '../fixtures/hostile.js';
import type { StartLog } from '../fixtures/pipeline-classes.js';
import { eventually, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

type Async<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never };

async function start(): Promise<Runtime> {
  ({ rt } = await startRuntime({ freePoolSize: 2 }));
  for (const name of ['SharedCounter', 'NaiveCounter', 'AgileCounter']) rt.registerClass(name, { module: fixture('free-classes.js'), export: name });
  return rt;
}

describe('apartments/free-pool: free objects run on whichever pool thread is free', () => {
  it('runs two concurrent calls to one object in parallel on two threads', async () => {
    const r = await start();
    const counter = await r.createObject<Async<SharedCounter>>('SharedCounter');
    expect(isProxy(counter)).to.equal(true);
    const [a, b] = await Promise.all([counter.meet(5_000), counter.meet(5_000)]);
    expect([a, b]).to.deep.equal([2, 2]);
  });

  it('gives every thread a view of the same shared state', async () => {
    const r = await start();
    const counter = await r.createObject<Async<SharedCounter>>('SharedCounter');
    const threads = new Set<number>();
    await Promise.all(Array.from({ length: 40 }, async () => {
      await counter.increment();
      threads.add((await counter.where()).thread);
    }));
    expect(await counter.get()).to.equal(40);
    expect(threads.size).to.equal(2);
  });

  it('shows the free-threading mistake: an ordinary field diverges between the threads\' views', async () => {
    const r = await start();
    const naive = await r.createObject<Async<NaiveCounter>>('NaiveCounter');
    const results = await Promise.all(Array.from({ length: 40 }, () => naive.count()));
    expect(Math.max(...results.map((x) => x.shared))).to.equal(40);
    expect(Math.max(...results.map((x) => x.thisThreadsField))).to.be.lessThan(40);
  });
});

describe('apartments/free-pool: agile objects (the free-threaded marshaler)', () => {
  it('hands every apartment a direct view: calls run on the caller\'s thread with no hop', async () => {
    const r = await start();
    const agile = (await r.createObject('AgileCounter')) as unknown as AgileCounter;
    expect(isProxy(agile)).to.equal(false);
    expect(agile.increment()).to.equal(1);
    expect(agile.where().apartment).to.equal(0);
    const apt = await r.createApartment();
    const holder = await apt.createObject<Holder>('Holder');
    await holder.keep(agile);
    expect(await holder.callKept(0, 'increment')).to.equal(2);
    expect(((await holder.callKept(0, 'where')) as { apartment: number }).apartment).to.equal(apt.id);
    expect(agile.get()).to.equal(2);
  });

  it('refuses to hand out an agile object that holds a proxy', async () => {
    const r = await start();
    const agile = (await r.createObject('AgileCounter')) as unknown as AgileCounter;
    const apt = await r.createApartment();
    const holder = await apt.createObject<Holder>('Holder');
    agile.hold(holder);
    const err = await holder.keep(agile).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ContractViolationError);
    expect((err as Error).message).to.contain('agile-unsafe');
  });

  it('refuses a free class that does not keep its state in shared memory', async () => {
    const r = await start();
    r.registerClass('NotFree', { module: fixture('free-classes.js'), export: 'PlainState', threading: 'free' });
    const err = await r.createObject('NotFree').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ContractViolationError);
    expect((err as Error).message).to.contain('[free-class]');
  });
});

describe('apartments/free-pool: calls keep their order while an argument\'s class loads', () => {
  const gates: BroadcastChannel[] = [];
  afterEach(() => {
    for (const g of gates.splice(0)) g.close();
  });

  /** A load gate (load-gate.ts): the next announced load, and the word to let it through or fail it. */
  function loadGate(name: string): { nextLoad(): Promise<void>; send(word: 'go' | 'fail'): void } {
    const waiting = new BroadcastChannel(`${name}-waiting`);
    gates.push(waiting);
    let announced: () => void = () => {};
    waiting.onmessage = () => announced();
    return {
      nextLoad: () => new Promise((resolve) => (announced = resolve)),
      send: (word) => {
        const gate = new BroadcastChannel(name);
        gate.postMessage(word);
        gate.close();
      },
    };
  }

  /** An object of a gated class, made in the free pool (whose own load of the class is let through). */
  async function makeGated(r: Runtime, gate: ReturnType<typeof loadGate>, className: string): Promise<unknown> {
    const poolLoad = gate.nextLoad();
    const creating = r.createObject(className);
    await poolLoad;
    gate.send('go');
    return creating;
  }

  /** A GatedCounter (made in the free pool), and a Holder in a new apartment that has not loaded its class. */
  async function gatedSetup(options: { maxQueuedPerApartment?: number } = {}) {
    const r = await start();
    r.registerClass('GatedCounter', { module: fixture('gated-class.js'), export: 'GatedCounter' });
    r.registerClass('FailingGatedCounter', { module: fixture('gated-failing-class.js'), export: 'FailingGatedCounter' });
    r.registerClass('Hostile', { module: fixture('hostile.js'), export: 'Hostile' });
    r.registerClass('StartLog', { module: fixture('pipeline-classes.js'), export: 'StartLog' });
    const gate = loadGate('gated-class');
    const gated = await makeGated(r, gate, 'GatedCounter');
    const apt = await r.createApartment(options.maxQueuedPerApartment ? { callLimits: { maxQueuedPerApartment: options.maxQueuedPerApartment } } : {});
    const holder = await apt.createObject<Holder>('Holder');
    return { r, apt, holder, gated, loading: gate.nextLoad(), openGate: () => gate.send('go') };
  }

  it('runs a call sent after one whose agile argument must load its class after it, not before', async () => {
    const { apt, holder, gated, loading, openGate } = await gatedSetup();
    const first = holder.keep(gated);
    await loading;
    const second = holder.keep('sent second');
    await eventually(async () => {
      expect((await apt.stats()).queuedCalls, 'both wait: the first for its class, the second behind it').to.equal(2);
    }, 60_000);
    openGate();
    expect([await first, await second], 'keep() returns how many it held, so the order the calls ran in').to.deep.equal([1, 2]);
    expect(await holder.give(1)).to.equal('sent second');
    expect(await holder.callKept(0, 'increment')).to.equal(1);
    expect((await apt.stats()).queuedCalls).to.equal(0);
  });

  it('never runs a call cancelled while it waited behind a class load', async () => {
    const { apt, holder, gated, loading, openGate } = await gatedSetup();
    const first = holder.keep(gated);
    await loading;
    const ac = new AbortController();
    const second = holder.keep('cancelled', callOptions({ signal: ac.signal })).catch((e: unknown) => e);
    await eventually(async () => {
      expect((await apt.stats()).queuedCalls).to.equal(2);
    }, 60_000);
    ac.abort();
    expect(await second).to.be.instanceOf(CallCanceledError);
    await eventually(async () => {
      expect((await apt.stats()).queuedCalls, 'the callee dropped the cancelled call').to.equal(1);
    }, 60_000);
    openGate();
    expect(await first).to.equal(1);
    expect(await holder.keep('third')).to.equal(2);
    expect(await holder.give(1)).to.equal('third');
  });

  it('lets the calls behind a call go on once that call is cancelled while its class loads', async () => {
    const { apt, holder, gated, loading, openGate } = await gatedSetup();
    const ac = new AbortController();
    const first = holder.keep(gated, callOptions({ signal: ac.signal })).catch((e: unknown) => e);
    await loading;
    const second = holder.keep('sent second');
    await eventually(async () => {
      expect((await apt.stats()).queuedCalls).to.equal(2);
    }, 60_000);
    ac.abort();
    expect(await first).to.be.instanceOf(CallCanceledError);
    expect(await second, 'the second call ran with the class load still held open').to.equal(1);
    openGate();
    expect(await holder.keep('third')).to.equal(2);
    expect((await apt.stats()).queuedCalls).to.equal(0);
  });

  it('finds a waiting call\'s target as it arrives: a release sent after the call does not pull it away', async () => {
    const { r, apt, holder, gated, loading, openGate } = await gatedSetup();
    const other = await apt.createObject<Holder>('Holder');
    const first = holder.keep(gated);
    await loading;
    const second = other.keep('kept before the release');
    release(other);
    await eventually(async () => {
      expect((await apt.stats()).queuedCalls).to.equal(2);
    }, 60_000);
    openGate();
    expect(await first).to.equal(1);
    expect(await second).to.equal(1);
    await eventually(async () => {
      expect((await apt.stats()).exports, 'only the first holder stays exported').to.equal(1);
    }, 60_000);
    expect(r.stats().exports).to.equal(0);
  });

  it('fails only the waiting call whose target throws as it is admitted, and the apartment serves on', async () => {
    const { apt, holder, gated, loading, openGate } = await gatedSetup();
    const hostile = await apt.createObject<Hostile>('Hostile');
    const shape = (await hostile.trickyShape()) as unknown as Remote<{ ping(): string }>;
    await hostile.armShapes();
    const first = holder.keep(gated);
    await loading;
    const tricky = shape.ping().catch((e: unknown) => e);
    const after = holder.keep('after the tricky one');
    await eventually(async () => {
      expect((await apt.stats()).queuedCalls).to.equal(3);
    }, 60_000);
    openGate();
    expect(await first).to.equal(1);
    expect(((await tricky) as Error).message).to.contain('constructor getter');
    expect(await after).to.equal(2);
    expect(await hostile.ping()).to.equal('pong');
  });

  it('starts a call pipelined on a waiting call after the calls its caller sent before it', async () => {
    const { apt, gated, loading, openGate } = await gatedSetup();
    const log = await apt.createObject<StartLog>('StartLog');
    const child = pipeline(log).make(gated, 'child');
    await loading;
    const second = log.note('sent second');
    const third = child.note('sent third');
    await eventually(async () => {
      expect((await apt.stats()).queuedCalls).to.equal(2);
    }, 60_000);
    openGate();
    await Promise.all([second, third]);
    expect(await log.log()).to.deep.equal(['make:child', 'root:sent second', 'child:sent third']);
  });

  it('gives back what a call brought when its class load failed and it is cancelled while it waits', async () => {
    const { r, apt, holder, gated, loading, openGate } = await gatedSetup();
    const failingGate = loadGate('gated-failing-class');
    const failing = await makeGated(r, failingGate, 'FailingGatedCounter');
    const exported = r.stats().exports;
    const first = holder.keep(gated);
    await loading;
    const failingLoad = failingGate.nextLoad();
    const ac = new AbortController();
    const second = holder.same(failing, () => 1, callOptions({ signal: ac.signal })).catch((e: unknown) => e);
    await failingLoad;
    expect(r.stats().exports, 'the callback is exported while its call waits').to.equal(exported + 1);
    // Fail the load, and let the apartment finish the turn that fails it (a stats call answered after).
    const failingNow = failingGate.nextLoad();
    failingGate.send('fail');
    await failingNow;
    expect((await apt.stats()).queuedCalls, 'both still wait: the failed call behind the first').to.equal(2);
    ac.abort();
    expect(await second).to.be.instanceOf(CallCanceledError);
    await eventually(async () => {
      expect((await apt.stats()).queuedCalls, 'the callee dropped the cancelled call').to.equal(1);
    }, 60_000);
    // The callee gave the callback back as it dropped the call, before it answered the stats call
    // above on the same link: it is back by now, and not left to the garbage collector.
    expect(r.stats().exports, 'the callback was given back').to.equal(exported);
    openGate();
    expect(await first).to.equal(1);
  });

  it('counts the calls waiting on a class load against the apartment\'s queue limit', async () => {
    const { apt, holder, gated, loading, openGate } = await gatedSetup({ maxQueuedPerApartment: 3 });
    const first = holder.keep(gated);
    await loading;
    const held = [holder.keep('a'), holder.keep('b')];
    const refused = await holder.keep('c').catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(CallRejectedError);
    expect((refused as Error).message).to.contain('[queue-full]');
    expect((await apt.stats()).refusedCalls).to.equal(1);
    openGate();
    expect([await first, ...(await Promise.all(held))]).to.deep.equal([1, 2, 3]);
  });
});

describe('apartments/free-pool: one handle per free object per apartment', () => {
  it('gives an apartment the same handle each time the object arrives, and the host its own handle back', async () => {
    const r = await start();
    const counter = await r.createObject<Async<SharedCounter>>('SharedCounter');
    const holder = await (await r.createApartment()).createObject<Holder>('Holder');
    await holder.keep(counter);
    await holder.keep(counter);
    expect(await holder.same(counter, counter), 'one call, two arrivals').to.equal(true);
    expect(await holder.callKept(0, 'increment')).to.equal(1);
    // Both kept references are the same handle in the holder's apartment: giving them back twice yields one handle here.
    const [first, second] = await Promise.all([holder.give(0), holder.give(1)]);
    expect(first).to.equal(counter);
    expect(second).to.equal(counter);
    expect(await counter.get()).to.equal(1);
    // A released handle is retired: the next arrival gets a new, working one.
    expect(release(counter)).to.equal(true);
    const again = (await holder.give(0)) as Async<SharedCounter>;
    expect(again).to.not.equal(counter);
    expect(await again.increment()).to.equal(2);
  });
});

describe('apartments/free-pool: releasing a pool handle retires that handle only', () => {
  it('makes release() return true and later calls and hand-overs fail with DisconnectedError', async () => {
    const r = await start();
    const counter = await r.createObject<Async<SharedCounter>>('SharedCounter');
    expect(await counter.increment()).to.equal(1);
    const apt = await r.createApartment();
    const holder = await apt.createObject<Holder>('Holder');
    await holder.keep(counter);
    expect(release(counter)).to.equal(true);
    const call = await counter.increment().catch((e: unknown) => e);
    expect(call).to.be.instanceOf(DisconnectedError);
    expect((call as DisconnectedError).code).to.equal('CO_E_OBJNOTCONNECTED');
    expect((call as Error).message).to.contain('[handle-released]');
    expect(await holder.keep(counter).catch((e: unknown) => e), 'a released handle cannot be handed over').to.be.instanceOf(DisconnectedError);
    expect(await holder.callKept(0, 'increment'), 'other handles on the same shared state keep working').to.equal(2);
  });

  it('releases on dispose, sync and async', async () => {
    const r = await start();
    const a = await r.createObject<SharedCounter>('SharedCounter');
    const b = await r.createObject<SharedCounter>('SharedCounter');
    {
      using scoped = a;
      expect(await scoped.increment()).to.equal(1);
    }
    await (async () => {
      await using scoped = b;
      expect(await scoped.increment()).to.equal(1);
    })();
    for (const h of [a, b]) expect(await h.increment().catch((e: unknown) => e)).to.be.instanceOf(DisconnectedError);
  });
});
