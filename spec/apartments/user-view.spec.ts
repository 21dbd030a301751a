// What a user sees of apartments and proxies outside calls: a short console form, constructor
// errors that say where they came from, and release() on a released proxy.
import { expect } from 'chai';
import { inspect } from 'node:util';
import { DisconnectedError, currentApartment, release, type Runtime } from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import type { Refuser } from '../fixtures/refuser.js';
import { eventually, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime;

describe('apartments: console.log() prints a short form of apartments and proxies', () => {
  it('an apartment handle, the current apartment and a proxy each print one short line', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ name: 'plugins-1' });
    const calc = await apt.createObject<Calc>('Calc', 1);
    expect(inspect(apt)).to.equal(`Apartment { apartment 'plugins-1' (${apt.id}), ready }`);
    expect(inspect(currentApartment())).to.equal("ApartmentContext { apartment 'main' (0), main }");
    expect(inspect(calc)).to.match(new RegExp(`^Remote \\{ object \\d+ in apartment ${apt.id} \\}$`));
    release(calc);
    expect(inspect(calc)).to.match(/, released \}$/);
    expect(inspect({ calc })).to.not.contain('\n');
  });
});

describe('apartments: a constructor that throws names the class and the apartment', () => {
  it('keeps the error class and adds where it was thrown', async () => {
    ({ rt } = await startRuntime());
    rt.registerClass('Refuser', { module: fixture('refuser.js'), export: 'Refuser' });
    const apt = await rt.createApartment({ name: 'plugins-2' });
    const err = await apt.createObject<Refuser>('Refuser', -1).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RangeError);
    expect((err as Error).message).to.equal(`[constructor] class 'Refuser' in apartment 'plugins-2' (${apt.id}) threw: size must be ≥ 0`);
    expect(await (await apt.createObject<Refuser>('Refuser', 1)).ok()).to.equal(true);
  });
});

describe('apartments: releasing a released proxy is a no-op', () => {
  it('release() again returns true and changes nothing; calls after it fail as disconnected', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const calc = await apt.createObject<Calc>('Calc', 1);
    expect(release(calc)).to.equal(true);
    expect(release(calc)).to.equal(true);
    calc[Symbol.dispose]();
    expect(await calc.add(1).catch((e: unknown) => e)).to.be.instanceOf(DisconnectedError);
    await eventually(async () => {
      expect((await apt.stats()).exports).to.equal(0);
    });
  });
});
