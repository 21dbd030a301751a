import { expect } from 'chai';
import { byRef, release, type Apartment, type LogEntry, type Remote } from '../../lib/index.js';
import type { Chain, Gate } from '../fixtures/admission-classes.js';
import type { Calc } from '../fixtures/calc.js';
import type { Janitor } from '../fixtures/crasher.js';
import { expectNoExports, startRuntime } from '../fixtures/runtime-fixture.js';

/** Collect garbage in each apartment, so proxies the calls left behind there are released (the backstop). */
async function collectIn(apartments: Apartment[]): Promise<void> {
  for (const apt of apartments) {
    const janitor = await apt.createObject<Remote<Janitor>>('Janitor');
    expect(await janitor.collect(), `gc is exposed in ${apt.label}`).to.equal(true);
    release(janitor);
  }
}

const warnings = (logs: LogEntry[]): string[] => logs.filter((e) => e.level === 'warn' || e.level === 'error').map((e) => e.message);

describe('apartments/links: an apartment that asks for ports in a shared-memory runtime', () => {
  it('is linked to the main apartment over a port and serves calls and callbacks, leaving no exports', async () => {
    const { rt, logs } = await startRuntime({ transport: 'shared-memory' });
    const apt = await rt.createApartment({ name: 'over-port', transport: 'port' });
    expect(apt.transport).to.equal('port');
    const calc = await apt.createObject<Remote<Calc>>('Calc', 40);
    expect(await calc.add(2)).to.equal(42);
    expect(await calc.callBack((x: number) => x * 2, 21)).to.equal(42);
    const mine = byRef({ n: 1 });
    expect(await calc.echo(mine), 'a reference that comes home is the object itself').to.equal(mine);
    release(calc);
    await collectIn([apt]);
    await expectNoExports(rt);
    expect(warnings(logs)).to.deep.equal([]);
  });
});

describe('apartments/links: a shared-memory apartment and a port apartment call each other directly', () => {
  // Whoever calls first asks the runtime for the pair's link: a shared-memory apartment offers a
  // ring, which the runtime declines for a port peer and answers with a port instead.
  for (const first of ['shared-memory', 'port'] as const) {
    it(`both ways, with callbacks, when the ${first} apartment calls first, leaving no exports`, async () => {
      const { rt, logs } = await startRuntime({ transport: 'shared-memory' });
      const ring = await rt.createApartment({ name: 'ring' });
      const port = await rt.createApartment({ name: 'port', transport: 'port' });
      expect([ring.transport, port.transport]).to.deep.equal(['shared-memory', 'port']);
      const [a, b] = first === 'shared-memory' ? [ring, port] : [port, ring];
      const chainA = await a.createObject<Remote<Chain>>('Chain');
      const chainB = await b.createObject<Remote<Chain>>('Chain');
      const gateA = await a.createObject<Remote<Gate>>('Gate');
      const gateB = await b.createObject<Remote<Gate>>('Gate');
      // A → B: the first call between the two makes their link.
      expect(await chainA.pingPong(chainB, 0)).to.equal(`touched in ${b.name}`);
      // A → B → A: B calls back an object of A, then a function of A.
      expect(await chainA.bounce(chainB)).to.equal('back:41');
      expect(await gateA.nest(chainB)).to.equal(2);
      // The same both ways from B's side.
      expect(await chainB.pingPong(chainA, 0)).to.equal(`touched in ${a.name}`);
      expect(await chainB.bounce(chainA)).to.equal('back:41');
      expect(await gateB.nest(chainA)).to.equal(2);
      for (const p of [chainA, chainB, gateA, gateB]) release(p);
      await collectIn([a, b]);
      await expectNoExports(rt);
      expect(warnings(logs)).to.deep.equal([]);
    });
  }

  it('both ways at once: the request that comes second waits for the link the first one made', async () => {
    const { rt, logs } = await startRuntime({ transport: 'shared-memory' });
    const ring = await rt.createApartment({ name: 'ring' });
    const port = await rt.createApartment({ name: 'port', transport: 'port' });
    // Two objects a side, so the crossing calls do not wait for each other's objects.
    const [r1, r2] = [await ring.createObject<Remote<Chain>>('Chain'), await ring.createObject<Remote<Chain>>('Chain')];
    const [p1, p2] = [await port.createObject<Remote<Chain>>('Chain'), await port.createObject<Remote<Chain>>('Chain')];
    expect(await Promise.all([r1.pingPong(p1, 0), p2.pingPong(r2, 0)])).to.deep.equal(['touched in port', 'touched in ring']);
    expect(await Promise.all([r1.bounce(p1), p2.bounce(r2)])).to.deep.equal(['back:41', 'back:41']);
    for (const p of [r1, r2, p1, p2]) release(p);
    await collectIn([ring, port]);
    await expectNoExports(rt);
    expect(warnings(logs)).to.deep.equal([]);
  });
});
