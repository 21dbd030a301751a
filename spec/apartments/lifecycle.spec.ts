import { expect } from 'chai';
import { ApartmentFaultedError, DisconnectedError, type Remote, type Runtime } from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import type { Crasher } from '../fixtures/crasher.js';
import type { Holder } from '../fixtures/holder.js';
import { startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

describe('apartments/lifecycle: starting, ready, closing, closed', () => {
  it('walks the states and emits the runtime events', async () => {
    ({ rt } = await startRuntime());
    const seen: string[] = [];
    rt.on('apartment-created', (a) => seen.push(`created:${a.state}`));
    rt.on('apartment-closed', (a) => seen.push(`closed:${a.state}`));
    const apt = await rt.createApartment({ name: 'life' });
    expect(apt.state).to.equal('ready');
    await apt.close();
    expect(apt.state).to.equal('closed');
    expect(seen).to.deep.equal(['created:starting', 'closed:closed']);
    expect(rt.apartments).to.have.length(0);
  });

  it('fails calls into a closed apartment with DisconnectedError, here and from other apartments', async () => {
    ({ rt } = await startRuntime());
    const a = await rt.createApartment({ name: 'a' });
    const b = await rt.createApartment({ name: 'b' });
    const calc = await a.createObject<Calc>('Calc', 1);
    const holder = await b.createObject<Holder>('Holder');
    await holder.keep(calc);
    expect(await holder.callKept(0, 'add', 1)).to.equal(2);
    await a.close();
    const here = await calc.add(1).catch((e: unknown) => e);
    expect(here).to.be.instanceOf(DisconnectedError);
    expect((here as Error).message).to.contain("'a'");
    const there = await holder.callKept(0, 'add', 1).catch((e: unknown) => e);
    expect(there, String((there as Error).stack)).to.be.instanceOf(DisconnectedError);
    expect(await a.createObject('Calc').catch((e: unknown) => e)).to.be.instanceOf(DisconnectedError);
  });

  it('closes every apartment when the runtime closes', async () => {
    ({ rt } = await startRuntime());
    const apts = await Promise.all([rt.createApartment(), rt.createApartment()]);
    await rt.close();
    rt = undefined;
    expect(apts.map((a) => a.state)).to.deep.equal(['closed', 'closed']);
  });
});

describe('apartments/lifecycle: a fault does not take the host down', () => {
  for (const [how, act] of [
    ['an uncaught exception', (c: Remote<Crasher>) => c.throwLater('kaboom')],
    ['process.exit()', (c: Remote<Crasher>) => c.exit(3)],
  ] as const) {
    it(`rejects in-flight calls with ApartmentFaultedError on ${how}, and the rest keeps working`, async () => {
      ({ rt } = await startRuntime());
      const bad = await rt.createApartment({ name: 'bad' });
      const good = await rt.createApartment({ name: 'good' });
      const crasher = await bad.createObject<Crasher>('Crasher');
      const calc = await good.createObject<Calc>('Calc', 1);
      const faults: Error[] = [];
      bad.on('fault', (e) => faults.push(e));
      const inFlight = crasher.hang().catch((e: unknown) => e);
      void act(crasher).catch(() => {});
      const err = await inFlight;
      expect(err).to.be.instanceOf(ApartmentFaultedError);
      expect((err as Error).message).to.contain("'bad'");
      expect((err as Error).cause).to.be.instanceOf(Error);
      expect(bad.state).to.equal('faulted');
      expect(faults).to.have.length(1);
      // Later calls: the object is disconnected, and the fault is the cause.
      const later = await crasher.ping().catch((e: unknown) => e);
      expect(later).to.be.instanceOf(DisconnectedError);
      expect(later).to.not.be.instanceOf(ApartmentFaultedError);
      expect((later as Error).cause).to.equal(err);
      expect(await calc.add(1)).to.equal(2);
    });
  }
});
