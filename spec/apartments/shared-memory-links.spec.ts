import { expect } from 'chai';
import { AtomicCounter, MarshalError, release, SharedMutex, transfer, type Remote, type Runtime } from '../../lib/index.js';
import { registerLinkKind } from '../../apartments/links.js';
import type { SharedCounter } from '../fixtures/free-classes.js';
import type { Holder } from '../fixtures/holder.js';
import type { LinkProbe } from '../fixtures/link-probe.js';
import { bytesPortLink, TEST_LINK_KINDS, unsharedPortLink } from '../fixtures/test-link-kinds.js';
import { expectNoExports, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

async function start(): Promise<Runtime> {
  registerLinkKind(unsharedPortLink, { module: TEST_LINK_KINDS, export: 'unsharedPortLink' });
  registerLinkKind(bytesPortLink, { module: TEST_LINK_KINDS, export: 'bytesPortLink' });
  const { rt } = await startRuntime({ freePoolSize: 1 });
  rt.registerClass('LinkProbe', { module: fixture('link-probe.js'), export: 'LinkProbe' });
  rt.registerClass('SharedCounter', { module: fixture('free-classes.js'), export: 'SharedCounter' });
  return rt;
}

/** The MarshalError a promise rejects with (fails the spec if it resolves or rejects otherwise). */
async function marshalError(p: Promise<unknown>): Promise<MarshalError> {
  try {
    await p;
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(MarshalError);
    return err as MarshalError;
  }
  throw new Error('expected a MarshalError, but the call went through');
}

describe('apartments/shared-memory-links: values built on shared memory ask the link before they cross', () => {
  it('refuses a SharedMutex, a counter, a free object and raw shared memory over a link that shares none, naming the path; plain calls work', async () => {
    const rt = await start();
    const apt = await rt.createApartment({ name: 'unshared', transport: 'unshared-port' });
    const holder = await apt.createObject<Holder>('Holder');
    expect(await holder.keep({ plain: [1, 2, 3] }), 'a plain call goes through').to.equal(1);

    const mutex = await marshalError(holder.keep(new SharedMutex()));
    expect(mutex.path).to.equal('args[0]');
    expect(mutex.message).to.match(/^\[no-shared-memory\] args\[0\] is a 'shared-mutex' value, which lives in shared memory, and the 'unshared-port' link/);
    expect((await marshalError(holder.keep({ counters: [new AtomicCounter()] }))).path).to.equal('args[0].counters[0]');
    const free = await rt.createObject<Remote<SharedCounter>>('SharedCounter');
    expect(await free.increment(), 'the free object works where memory is shared').to.equal(1);
    const freeRefused = await marshalError(holder.keep(free));
    expect(freeRefused.path).to.equal('args[0]');
    expect(freeRefused.message).to.contain("a 'free' value");
    expect((await marshalError(holder.keep({ data: { buf: new SharedArrayBuffer(8) } }))).path).to.equal('args[0].data.buf');
    expect((await marshalError(holder.keep(new Int32Array(new SharedArrayBuffer(8))))).path).to.equal('args[0]');

    expect(await holder.keep('still serving'), 'every refusal failed only its own call').to.equal(2);
    release(holder);
    release(free);
    await expectNoExports(rt);
  });

  it('refuses shared memory coming back as a result, and a named counter opened over such a link', async () => {
    const rt = await start();
    const apt = await rt.createApartment({ name: 'unshared', transport: 'unshared-port' });
    const probe = await apt.createObject<LinkProbe>('LinkProbe');
    const result = await marshalError(probe.makeMutex());
    expect(result.path).to.equal('result');
    const namedRefused = await probe.openNamedCounter('hits').then(() => undefined, (err: Error & { path?: string }) => err);
    expect(namedRefused?.name).to.equal('MarshalError');
    expect(namedRefused?.message).to.match(/^\[no-shared-memory\] named counter 'hits'/);
    expect(rt.isNamedOpen('hits'), 'the main apartment never opened it').to.equal(false);
    // Named memory is the exception: such an apartment gets a copy, kept coherent at named locks.
    expect(await probe.openNamedMemory('segment'), 'named memory opens as a copy over such a link').to.equal(8);
    expect(rt.isNamedOpen('segment'), 'closed again').to.equal(false);
    const shared = await rt.createApartment({ name: 'shared' });
    const probe2 = await shared.createObject<LinkProbe>('LinkProbe');
    expect(await probe2.openNamedMemory('segment'), 'named memory works over a link that shares memory').to.equal(8);
    release(probe);
    release(probe2);
  });

  it('refuses shared memory queued for a link that was still being made when the call was sent', async () => {
    const rt = await start();
    const a = await rt.createApartment({ name: 'a', transport: 'unshared-port' });
    const b = await rt.createApartment({ name: 'b', transport: 'unshared-port' });
    const probe = await a.createObject<LinkProbe>('LinkProbe');
    const holder = await b.createObject<Holder>('Holder');
    const sent = await probe.sendSharedTo(holder);
    expect(sent.shared).to.match(/^MarshalError args\[0\]\.buf: \[no-shared-memory\]/);
    expect(sent.plain, 'the plain call after it went through').to.equal(1);
    release(probe);
    release(holder);
  });

  it('refuses transfer() over a link that carries bytes only, naming the path', async () => {
    const rt = await start();
    const apt = await rt.createApartment({ name: 'bytes', transport: 'bytes-port' });
    const holder = await apt.createObject<Holder>('Holder');
    const buffer = new ArrayBuffer(8);
    const moved = await marshalError(holder.keep({ data: transfer({ buffer }, [buffer]) }));
    expect(moved.path).to.equal('args[0].data');
    expect(moved.message).to.match(/^\[link-carries-bytes\]/);
    expect(buffer.byteLength, 'nothing was moved').to.equal(8);
    expect(await holder.keep({ copied: new Uint8Array(buffer) }), 'a copy goes through').to.equal(1);
    release(holder);
  });
});
