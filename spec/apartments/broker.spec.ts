import { expect } from 'chai';
import { byRef, release } from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import type { Relay } from '../fixtures/relay.js';
import { expectNoExports, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

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

