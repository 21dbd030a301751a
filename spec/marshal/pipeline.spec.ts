import { expect } from 'chai';
import {
  CallCanceledError, InvalidArgumentError, NoInterfaceError, callOptions, pipeline, release, type Runtime,
} from '../../lib/index.js';
import type { Factory } from '../fixtures/pipeline-classes.js';
import type { Holder } from '../fixtures/holder.js';
import { eventually, expectNoExports, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

/** A wait the callee makes by calling back, and the function that ends it. */
function gate(): { wait: () => Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait: () => opened, open };
}

async function start(): Promise<Runtime> {
  const { rt } = await startRuntime();
  rt.registerClass('Factory', { module: fixture('pipeline-classes.js'), export: 'Factory' });
  rt.registerClass('Child', { module: fixture('pipeline-classes.js'), export: 'Child' });
  return rt;
}

describe('marshal/pipeline: a call on a promised result', () => {
  it('sends the second call before the first answers, and the callee runs it once the first has', async () => {
    const rt = await start();
    const apt = await rt.createApartment({ name: 'factory' });
    const factory = await apt.createObject<Factory>('Factory');
    const { wait, open } = gate();
    const child = pipeline(factory).makeChildAfter(7, wait);
    const value = child.value();
    // Both calls are at the callee, their answers kept, while the first is still waiting on its gate.
    await eventually(async () => {
      expect((await apt.stats()).answers).to.equal(2);
    });
    open();
    expect(await value).to.equal(7);
    const arrived = await child;
    expect(await arrived.value()).to.equal(7);
    await eventually(async () => {
      expect((await apt.stats()).answers).to.equal(0);
    });
    release(arrived);
    release(factory);
    await expectNoExports(rt);
  });

  it('runs calls pipelined on one answer in the order they were made', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const factory = await apt.createObject<Factory>('Factory');
    const child = pipeline(factory).makeChild(1);
    const counts = await Promise.all(['a', 'b', 'c', 'd'].map((s) => child.append(s)));
    expect(counts).to.deep.equal([1, 2, 3, 4]);
    expect(await child.joined()).to.equal('abcd');
    release(await child);
    release(factory);
    await expectNoExports(rt);
  });

  it('pipelines chains: a call on the answer of a pipelined call', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const factory = await apt.createObject<Factory>('Factory');
    const first = pipeline(factory).makeChild(5);
    const twin = first.twin();
    expect(await twin.value()).to.equal(10);
    // Every answer that arrives as a proxy is the caller's to release, as if it had been awaited.
    release(await twin);
    release(await first);
    release(factory);
    await expectNoExports(rt);
  });
});

describe('marshal/pipeline: identity and reference counts', () => {
  it('gives the same proxy as the calls made one by one, and counts one reference for it', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const factory = await apt.createObject<Factory>('Factory');
    const pending = pipeline(factory).makeChild(3);
    expect(await pending.value()).to.equal(3);
    const child = await pending;
    expect(await factory.lastChild(), 'one proxy per object').to.equal(child);
    expect((await apt.stats()).exports).to.equal(2);
    release(child);
    await factory.forget();
    await eventually(async () => {
      expect((await apt.stats()).exports).to.equal(1);
    });
    release(factory);
    await expectNoExports(rt);
  });

  it('calls the arrived proxy directly once the answer is in', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const factory = await apt.createObject<Factory>('Factory');
    const pending = pipeline(factory).makeChild(4);
    const child = await pending;
    expect(await pending.value()).to.equal(4);
    expect((await apt.stats()).answers).to.equal(0);
    release(child);
    release(factory);
    await expectNoExports(rt);
  });
});

describe('marshal/pipeline: errors', () => {
  it('rejects the pipelined calls with the error of the call they were pipelined on', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const factory = await apt.createObject<Factory>('Factory');
    const bad = pipeline(factory).refuse('no');
    const twin = bad.twin();
    const [first, second, third, fourth] = await Promise.allSettled([bad, bad.value(), twin, twin.value()]);
    for (const r of [first, second, third, fourth]) {
      expect(r.status).to.equal('rejected');
      const err = (r as PromiseRejectedResult).reason as InvalidArgumentError;
      expect(err).to.be.instanceOf(InvalidArgumentError);
      expect(err.message).to.equal('[bad-child] no');
    }
    release(factory);
    await expectNoExports(rt);
    expect((await apt.stats()).answers).to.equal(0);
  });

  it('fails a pipelined call alone when it throws, and one on a plain-data answer with NoInterfaceError', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const factory = await apt.createObject<Factory>('Factory');
    const child = pipeline(factory).makeChild(2);
    const thrown = await child.fail().catch((e: unknown) => e);
    expect(thrown).to.be.instanceOf(RangeError);
    expect(await child.value(), 'the child is unharmed').to.equal(2);
    const plain = pipeline(factory).plain() as unknown as { value(): Promise<number> };
    const err = await plain.value().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NoInterfaceError);
    expect((err as Error).message).to.match(/^\[pipeline\]/);
    release(await child);
    release(factory);
    await expectNoExports(rt);
  });

  it('cancels a pipelined call that is still waiting for its target, and the target still answers', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const factory = await apt.createObject<Factory>('Factory');
    const { wait, open } = gate();
    const child = pipeline(factory).makeChildAfter(9, wait);
    const abort = new AbortController();
    const canceled = child.append('x', callOptions({ signal: abort.signal })).catch((e: unknown) => e);
    await eventually(async () => {
      expect((await apt.stats()).answers).to.equal(2);
    });
    abort.abort();
    expect(await canceled).to.be.instanceOf(CallCanceledError);
    open();
    expect(await child.joined(), 'the cancelled call never ran').to.equal('');
    release(await child);
    release(factory);
    await expectNoExports(rt);
    await eventually(async () => {
      expect((await apt.stats()).answers).to.equal(0);
    });
  });

  it('refuses pipeline() on something that is not a proxy', () => {
    expect(() => pipeline({ makeChild: () => 1 })).to.throw(InvalidArgumentError, /^\[pipeline\]/);
  });
});

describe('marshal/pipeline: callbacks and third apartments', () => {
  it('passes a callback in a pipelined call, and the callee calls it back', async () => {
    const rt = await start();
    const apt = await rt.createApartment();
    const factory = await apt.createObject<Factory>('Factory');
    const child = pipeline(factory).makeChild(6);
    expect(await child.callBack((n) => n * 7)).to.equal(42);
    release(await child);
    release(factory);
    await expectNoExports(rt);
  });

  it('hands a pipelined by-reference result to a third apartment, which calls it after the giver released it', async () => {
    const rt = await start();
    const a = await rt.createApartment({ name: 'a' });
    const b = await rt.createApartment({ name: 'b' });
    const factory = await a.createObject<Factory>('Factory');
    const holder = await b.createObject<Holder>('Holder');
    const pending = pipeline(factory).makeChild(11);
    const twice = pending.twin();
    const child = await pending;
    await holder.keep(child);
    await holder.keep(await twice);
    release(child);
    release(await twice);
    await factory.forget();
    expect(await holder.callKept(0, 'value')).to.equal(11);
    expect(await holder.callKept(1, 'value')).to.equal(22);
    expect(await holder.releaseAll()).to.equal(2);
    release(holder);
    release(factory);
    await expectNoExports(rt);
    expect(rt.stats().loans).to.equal(0);
  });
});
