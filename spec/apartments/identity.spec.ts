import { expect } from 'chai';
import { byRef, isProxy, type Runtime } from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import type { Holder } from '../fixtures/holder.js';
import { startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

describe('apartments/identity: one proxy per object per apartment', () => {
  it('gives the same proxy however often and by whichever path the reference arrives', async () => {
    ({ rt } = await startRuntime());
    const a = await rt.createApartment({ name: 'a' });
    const b = await rt.createApartment({ name: 'b' });
    const calc = await a.createObject<Calc>('Calc');
    const holder = await b.createObject<Holder>('Holder');
    await holder.keep(calc);
    await holder.keep(calc);
    expect(await holder.same(calc, calc)).to.equal(true);
    expect(await holder.give(0)).to.equal(calc);
    expect(await holder.give(1)).to.equal(calc);
    expect(await calc.echo(calc)).to.equal(calc);
  });

  it('turns a reference that comes home into the real object', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const holder = await apt.createObject<Holder>('Holder');
    const mine = byRef({ tag: () => 'mine' });
    await holder.keep(mine);
    const back = await holder.give(0);
    expect(back).to.equal(mine);
    expect(isProxy(back)).to.equal(false);
    const fn = (): number => 1;
    expect(await holder.same(fn, fn)).to.equal(true);
  });

  it('is never mistaken for a promise', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const calc = await apt.createObject<Calc>('Calc');
    expect((calc as unknown as { then?: unknown }).then).to.equal(undefined);
    const resolved = await Promise.resolve(calc);
    expect(resolved).to.equal(calc);
    expect(() => {
      (calc as unknown as Record<string, unknown>).x = 1;
    }).to.throw(TypeError, /remote-set/);
  });
});
