import { expect } from 'chai';
import { ApartmentFaultedError, byRef, release } from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import type { Crasher } from '../fixtures/crasher.js';
import type { Holder } from '../fixtures/holder.js';
import type { Relay } from '../fixtures/relay.js';
import { eventually, expectNoExports, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

for (const transport of ['port', 'shared-memory'] as const) {
  describe(`apartments/broker: workers call each other directly (${transport})`, () => {
    it('keeps calls between two workers going while the main thread is blocked', async () => {
      const { rt } = await startRuntime({ transport });
      rt.registerClass('Relay', { module: fixture('relay.js'), export: 'Relay' });
      const calc = await (await rt.createApartment({ name: 'b' })).createObject<Calc>('Calc');
      const relay = await (await rt.createApartment({ name: 'a' })).createObject<Relay>('Relay');
      const cells = new Int32Array(new SharedArrayBuffer(4));
      await relay.start(calc, cells, 1_000);
      // Block this thread: if A's calls to B went through the main apartment, none could be answered.
      const woke = Atomics.wait(cells, 0, 0, 10_000);
      expect(woke === 'ok' || woke === 'not-equal', `A's calls to B were answered while main was blocked (${woke})`).to.equal(true);
      expect(Atomics.load(cells, 0)).to.be.greaterThan(0);
    });
  });
}

describe('apartments/broker: the port transport end to end', () => {
  it('creates, calls, calls back, releases and closes over MessagePorts, leaving no exports', async () => {
    const { rt } = await startRuntime({ transport: 'port' });
    const apt = await rt.createApartment({ name: 'over-ports' });
    const calc = await apt.createObject<Calc>('Calc', 40);
    expect(await calc.add(2)).to.equal(42);
    expect(await calc.callBack((x: number) => x * 2, 21)).to.equal(42);
    const mine = byRef({ n: 1 });
    expect(await calc.echo(mine), 'a reference that comes home is the object itself').to.equal(mine);
    release(calc);
    // The worker's proxies for the callback and `mine` go when it collects them (the backstop).
    const janitor = await apt.createObject<{ collect(): Promise<boolean> }>('Janitor');
    expect(await janitor.collect()).to.equal(true);
    release(janitor);
    await expectNoExports(rt);
    await apt.close();
    expect(apt.state).to.equal('closed');
  });
});


for (const transport of ['port', 'shared-memory'] as const) {
  describe(`apartments/broker: a link that arrives after its peer died is not attached (${transport})`, () => {
    it('drops the late end unread: nothing the dead apartment wrote into it holds a reference', async () => {
      // Seen once in the stress spec under load: an export that stayed referenced by a dead apartment.
      const { rt } = await startRuntime({ transport, defaultTimeoutMs: 600_000 });
      const a = await rt.createApartment({ name: 'a' });
      const b = await rt.createApartment({ name: 'b' });
      const calcA = await a.createObject<Calc>('Calc');
      const holderA = await a.createObject<Holder>('Holder');
      const calcB = await b.createObject<Calc>('Calc');
      const holderB = await b.createObject<Holder>('Holder');
      const crasherB = await b.createObject<Crasher>('Crasher');
      // a takes a reference on b's Calc, which asks the runtime for a link to b, and then reads
      // nothing: the runtime's answer (the link) waits in a's queue.
      const flag = new Int32Array(new SharedArrayBuffer(8));
      const busy = holderA.keepWhileBusy(calcB, flag);
      await eventually(() => {
        expect(Atomics.load(flag, 1)).to.equal(1);
      }, 60_000);
      // b has its end of that link; it takes a reference on a's Calc through it, then dies.
      await eventually(async () => {
        expect((await b.stats()).channels, "b's links: the runtime's and a's").to.equal(2);
      }, 60_000);
      expect(await holderB.keep(calcA)).to.equal(1);
      expect(await crasherB.exit(7).catch((e: unknown) => e)).to.be.instanceOf(ApartmentFaultedError);
      expect(b.state).to.equal('faulted');
      // a now reads, in order, its link to b and the news that b is gone.
      Atomics.store(flag, 0, 1);
      expect(await busy).to.equal(1);
      const stats = await a.stats();
      expect(stats.channels, "a's links: the runtime's only").to.equal(1);
      await holderA.releaseAll();
      for (const p of [calcA, holderA, calcB, holderB, crasherB]) release(p);
      await expectNoExports(rt);
    });
  });
}
