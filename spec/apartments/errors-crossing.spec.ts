import { expect } from 'chai';
import { NoInterfaceError, type Runtime } from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import { startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

describe('apartments/errors: thrown errors cross apartments', () => {
  it('keeps class, message, own properties and the remote stack', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ name: 'thrower' });
    const calc = await apt.createObject<Calc>('Calc', 5);
    const err = (await calc.fail('bad input').catch((e: unknown) => e)) as RangeError & { detail: unknown };
    expect(err).to.be.instanceOf(RangeError);
    expect(err.message).to.equal('bad input');
    expect(err.detail).to.deep.equal({ total: 5 });
    expect(err.stack).to.match(/calc\.(ts|js)/).and.contain(`thrown in apartment ${apt.id}`);
  });

  it('keeps the code and the cause, the cause with its own class and message', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ name: 'thrower' });
    const calc = await apt.createObject<Calc>('Calc');
    const err = (await calc.failWithCause('refused').catch((e: unknown) => e)) as Error & { code?: string };
    expect(err).to.be.instanceOf(Error);
    expect(err.message).to.equal('refused');
    expect(err.code).to.equal('ERR_CALC_REFUSED');
    expect(err.cause).to.be.instanceOf(TypeError);
    expect((err.cause as Error).message).to.equal('the root cause');
  });

  it('keeps the runtime error classes: a missing method is a NoInterfaceError with its code', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const calc = await apt.createObject<Calc>('Calc');
    for (const name of ['nope', 'constructor', '__proto__', 'toString']) {
      const err = await (calc as unknown as Record<string, () => Promise<unknown>>)[name]!().catch((e: unknown) => e);
      expect(err, name).to.be.instanceOf(NoInterfaceError);
      expect((err as NoInterfaceError).code).to.equal('E_NOINTERFACE');
    }
  });
});
