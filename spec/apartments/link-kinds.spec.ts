import { expect } from 'chai';
import { InvalidArgumentError, ModuleLoadError, release, Runtime, type LogEntry, type Remote } from '../../lib/index.js';
import { attachLink, deferLinkKind, linkKind, loadLinkKind, registerLinkKind } from '../../apartments/links.js';
import type { Chain, Gate } from '../fixtures/admission-classes.js';
import type { Calc } from '../fixtures/calc.js';
import type { Janitor } from '../fixtures/crasher.js';
import type { LinkProbe } from '../fixtures/link-probe.js';
import { TEST_LINK_KINDS, unsharedPortLink } from '../fixtures/test-link-kinds.js';
import { expectNoExports, fixture, startRuntime } from '../fixtures/runtime-fixture.js';
import { portLink } from '../../marshal/transports/port-link.js';

const warnings = (logs: LogEntry[]): string[] => logs.filter((e) => e.level === 'warn' || e.level === 'error').map((e) => e.message);

/** A runtime with the link probe registered and the spec's kind loaded in every worker apartment. */
async function start(options: Parameters<typeof startRuntime>[0] = {}): Promise<{ rt: Runtime; logs: LogEntry[] }> {
  registerLinkKind(unsharedPortLink, { module: TEST_LINK_KINDS, export: 'unsharedPortLink' });
  const started = await startRuntime(options);
  started.rt.registerClass('LinkProbe', { module: fixture('link-probe.js'), export: 'LinkProbe' });
  return started;
}

/** Collect garbage in each apartment, so proxies the calls left behind there are released. */
async function collectIn(apartments: { createObject<T>(name: string): Promise<Remote<T>> }[]): Promise<void> {
  for (const apt of apartments) {
    const janitor = await apt.createObject<Janitor>('Janitor');
    expect(await janitor.collect(), 'gc is exposed').to.equal(true);
    release(janitor);
  }
}

describe('apartments/link-kinds: a link kind that is not registered is refused by name', () => {
  it('refuses it as the runtime default and per apartment with InvalidArgumentError, starting nothing', async () => {
    let refused: unknown;
    try {
      await Runtime.start({ transport: 'carrier-pigeon' });
    } catch (err) {
      refused = err;
    }
    expect(refused).to.be.instanceOf(InvalidArgumentError);
    expect((refused as InvalidArgumentError).message).to.match(/\[link-kind\].*'carrier-pigeon'.*'port'.*'shared-memory'/);
    expect((refused as InvalidArgumentError).parameter).to.equal('transport');

    const { rt } = await start();
    let perApartment: unknown;
    try {
      await rt.createApartment({ name: 'pigeon', transport: 'carrier-pigeon' });
    } catch (err) {
      perApartment = err;
    }
    expect(perApartment).to.be.instanceOf(InvalidArgumentError);
    expect((perApartment as Error).message).to.contain("'carrier-pigeon'");
    expect(rt.apartments, 'no apartment was started for the refused kind').to.have.length(0);
  });

  it('refuses a definition that lacks what a kind must say, and another definition under a taken name', () => {
    expect(() => registerLinkKind({ ...portLink, name: 'Bad Name' })).to.throw(InvalidArgumentError, /\[link-kind\].*name/);
    expect(() => registerLinkKind({ ...portLink, name: 'no-flags', carries: 'smoke' as 'bytes' })).to.throw(InvalidArgumentError, /carries/);
    expect(() => registerLinkKind({ ...portLink, name: 'no-attach', attach: undefined as never })).to.throw(InvalidArgumentError, /attach/);
    for (const moveCopiesFrom of [0, -1, 1.5, Number.NaN, '4096' as unknown as number]) {
      expect(() => registerLinkKind({ ...portLink, name: 'odd-moves', moveCopiesFrom }), String(moveCopiesFrom)).to.throw(InvalidArgumentError, /moveCopiesFrom only with carries: 'clone', as a whole number of bytes from 1/);
    }
    expect(() => registerLinkKind({ ...portLink, name: 'bytes-moves', carries: 'bytes', moveCopiesFrom: 4096 })).to.throw(InvalidArgumentError, /moveCopiesFrom only with carries: 'clone'/);
    expect(() => registerLinkKind({ ...portLink })).to.throw(InvalidArgumentError, /'port' is already registered/);
    expect(() => registerLinkKind(portLink), 'the same definition again').to.not.throw();
    expect(linkKind('port')).to.equal(portLink);
  });
});

describe('apartments/link-kinds: a kind registered by a spec is used end to end with real workers', () => {
  it('links the host and an apartment with it: calls, callbacks and references coming home, leaving no exports', async () => {
    const { rt, logs } = await start();
    const apt = await rt.createApartment({ name: 'unshared', transport: 'unshared-port' });
    expect(apt.transport).to.equal('unshared-port');
    const probe = await apt.createObject<LinkProbe>('LinkProbe');
    expect(await probe.linkTo(0), 'the apartment attached the kind it loaded').to.deep.equal({ name: 'unshared-port', sharedMemory: false, carries: 'clone' });
    const calc = await apt.createObject<Calc>('Calc', 40);
    expect(await calc.add(2)).to.equal(42);
    expect(await calc.callBack((x: number) => x * 2, 21)).to.equal(42);
    for (const p of [probe, calc]) release(p);
    await collectIn([apt]);
    await expectNoExports(rt);
    expect(warnings(logs)).to.deep.equal([]);
  });

  it('links two worker apartments of the kind directly, both ways with callbacks, leaving no exports', async () => {
    const { rt, logs } = await start({ transport: 'unshared-port' });
    const [a, b] = [await rt.createApartment({ name: 'a' }), await rt.createApartment({ name: 'b' })];
    const chainA = await a.createObject<Remote<Chain>>('Chain');
    const chainB = await b.createObject<Remote<Chain>>('Chain');
    const gateA = await a.createObject<Remote<Gate>>('Gate');
    expect(await chainA.pingPong(chainB, 0)).to.equal('touched in b');
    expect(await chainB.bounce(chainA)).to.equal('back:41');
    expect(await gateA.nest(chainB)).to.equal(2);
    const probe = await a.createObject<LinkProbe>('LinkProbe');
    expect(await probe.linkTo(b.id), 'the pair got a link of their kind').to.deep.equal({ name: 'unshared-port', sharedMemory: false, carries: 'clone' });
    for (const p of [chainA, chainB, gateA, probe]) release(p);
    await collectIn([a, b]);
    await expectNoExports(rt);
    expect(warnings(logs)).to.deep.equal([]);
  });

  it('links a shared-memory apartment and one of the kind: the pair gets the kind that shares no memory', async () => {
    const { rt, logs } = await start();
    const ring = await rt.createApartment({ name: 'ring' });
    const unshared = await rt.createApartment({ name: 'unshared', transport: 'unshared-port' });
    const chainRing = await ring.createObject<Remote<Chain>>('Chain');
    const chainUnshared = await unshared.createObject<Remote<Chain>>('Chain');
    expect(await chainRing.pingPong(chainUnshared, 0)).to.equal('touched in unshared');
    const probe = await ring.createObject<LinkProbe>('LinkProbe');
    expect((await probe.linkTo(unshared.id))?.name).to.equal('unshared-port');
    for (const p of [chainRing, chainUnshared, probe]) release(p);
    await collectIn([ring, unshared]);
    await expectNoExports(rt);
    expect(warnings(logs)).to.deep.equal([]);
  });
});

describe('apartments/link-kinds: a link end from a peer is checked before it is used', () => {
  it('refuses forged offers from a worker with InvalidArgumentError, and the worker keeps serving', async () => {
    const { rt } = await start();
    const [a, b] = [await rt.createApartment({ name: 'a' }), await rt.createApartment({ name: 'b' })];
    const probe = await a.createObject<LinkProbe>('LinkProbe');
    const badRing = await probe.forgeOffer(b.id, { kind: 'shared-memory', end: { sab: new SharedArrayBuffer(16) }, transfer: [] });
    expect(badRing.name).to.equal('InvalidArgumentError');
    expect(badRing.message).to.match(/\[link-end\] the offered 'shared-memory' link end is unusable: its memory is unusable/);
    expect(badRing.parameter).to.equal('offer.end');
    const unknown = await probe.forgeOffer(b.id, { kind: 'smoke-signal', end: 1, transfer: [] });
    expect([unknown.name, unknown.parameter]).to.deep.equal(['InvalidArgumentError', 'offer.kind']);
    expect(unknown.message).to.contain("'smoke-signal'");
    const notAPort = await probe.forgeOffer(b.id, { kind: 'port', end: { postMessage: 'no' }, transfer: [] });
    expect(notAPort.message).to.match(/\[link-end\].*'port'.*MessagePort/);
    const shape = await probe.forgeOffer(b.id, 'a string');
    expect([shape.name, shape.parameter]).to.deep.equal(['InvalidArgumentError', 'offer']);
    // None of that linked a to b: the first real call still makes their link, and it works.
    const chainA = await a.createObject<Remote<Chain>>('Chain');
    const chainB = await b.createObject<Remote<Chain>>('Chain');
    expect(await chainA.pingPong(chainB, 0)).to.equal('touched in b');
    for (const p of [probe, chainA, chainB]) release(p);
  });

  it('refuses an end that fails its kind\'s check when it is attached, naming where it came from', () => {
    expect(() => attachLink('port', { not: 'a port' }, 'apartment 9')).to.throw(InvalidArgumentError, /\[link-end\] apartment 9 sent an unusable 'port' link end: a MessagePort was expected/);
    expect(() => attachLink('shared-memory', null, 'apartment 9')).to.throw(InvalidArgumentError, /'shared-memory' link end/);
    expect(() => attachLink('smoke-signal', {}, 'apartment 9')).to.throw(InvalidArgumentError, /'smoke-signal'/);
  });
});

describe('apartments/link-kinds: a deferred kind is loaded only when a thread asks for it', () => {
  it('refuses it by name until loaded, loads it once asked, and refuses a loader that fails or gives another kind', async () => {
    let loads = 0;
    const later = { ...portLink, name: 'spec-deferred-port' };
    deferLinkKind(later.name, async () => {
      loads++;
      return later;
    });
    expect(loads, 'deferring loads nothing').to.equal(0);
    expect(() => linkKind(later.name)).to.throw(InvalidArgumentError, /\[link-kind\] this thread has not loaded link kind 'spec-deferred-port' \(transport\)/);
    await loadLinkKind(later.name);
    expect(linkKind(later.name), 'registered once loaded').to.equal(later);
    await loadLinkKind(later.name);
    expect(loads, 'a loaded kind is not loaded again').to.equal(1);
    // Deferring a kind that is registered changes nothing.
    deferLinkKind('port', () => Promise.reject(new Error('never called')));
    await loadLinkKind('port');
    expect(linkKind('port')).to.equal(portLink);

    deferLinkKind('spec-deferred-broken', () => Promise.reject(new Error('no such file')));
    const broken = await loadLinkKind('spec-deferred-broken').then(() => undefined, (err: unknown) => err);
    expect(broken).to.be.instanceOf(ModuleLoadError);
    expect((broken as Error).message).to.match(/\[link-kind\] link kind 'spec-deferred-broken' could not be loaded: no such file/);
    deferLinkKind('spec-deferred-other', async () => ({ ...portLink, name: 'spec-deferred-elsewhere' }));
    const other = await loadLinkKind('spec-deferred-other').then(() => undefined, (err: unknown) => err);
    expect(other).to.be.instanceOf(ModuleLoadError);
    expect((other as Error).message).to.match(/holds another kind/);
    expect(() => linkKind('spec-deferred-elsewhere'), 'the other kind was not registered').to.throw(InvalidArgumentError);
  });
});
