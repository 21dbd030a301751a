import { expect } from 'chai';
import { DisconnectedError, byRef, release, type Runtime } from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import type { Holder } from '../fixtures/holder.js';
import { eventually, expectNoExports, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

describe('apartments/lifetime: explicit release', () => {
  it('releases the object when its only proxy is released, and later calls fail', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const calc = await apt.createObject<Calc>('Calc');
    expect((await apt.stats()).exports).to.equal(1);
    expect(release(calc)).to.equal(true);
    expect(release(calc)).to.equal(true);
    const err = await calc.add(1).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DisconnectedError);
    expect((err as DisconnectedError).code).to.equal('CO_E_OBJNOTCONNECTED');
    await expectNoExports(rt);
  });

  it('counts one reference per arrival and releases them all with the proxy', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const holder = await apt.createObject<Holder>('Holder');
    const calc = await apt.createObject<Calc>('Calc');
    await holder.keep(calc);
    const again = await holder.give(0);
    expect(again).to.equal(calc);
    release(calc);
    release(holder);
    await expectNoExports(rt);
  });

  it('releases through Symbol.dispose and await using', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    {
      using calc = await apt.createObject<Calc>('Calc');
      expect(await calc.add(1)).to.equal(1);
    }
    {
      await using calc = await apt.createObject<Calc>('Calc');
      expect(await calc.add(2)).to.equal(2);
    }
    await expectNoExports(rt);
  });

  it('releases a forgotten proxy when it is garbage collected (backstop)', async () => {
    expect(globalThis.gc, 'specs run with --expose-gc').to.be.a('function');
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    await (async () => {
      const calc = await apt.createObject<Calc>('Calc');
      await calc.add(1);
    })();
    await eventually(async () => {
      globalThis.gc!();
      await new Promise((r) => setTimeout(r, 5));
      expect((await apt.stats()).exports).to.equal(0);
    }, 5_000);
  });
});

describe('apartments/lifetime: callbacks and by-reference arguments', () => {
  it('calls a host function back from the apartment and releases it when the apartment does', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const calc = await apt.createObject<Calc>('Calc');
    const holder = await apt.createObject<Holder>('Holder');
    const seen: number[] = [];
    expect(await calc.callBack((x: number) => seen.push(x) * 10, 7)).to.equal(10);
    const host = byRef({ hello: (n: string) => `hello ${n} from ${seen.length}` });
    await holder.keep(host);
    expect(await holder.callKept(0, 'hello', 'apt')).to.equal('hello apt from 1');
    expect(await holder.releaseAll()).to.equal(1);
    release(calc);
    release(holder);
    // The byRef host object was released explicitly; the transient callback stays exported
    // until the apartment's proxy for it is collected (the garbage-collection backstop).
    await eventually(() => {
      expect(rt!.stats().exports).to.equal(1);
    });
  });

  it('hands a proxy to a third apartment, which keeps the object alive after the giver releases', async () => {
    ({ rt } = await startRuntime());
    const a = await rt.createApartment({ name: 'a' });
    const b = await rt.createApartment({ name: 'b' });
    const calc = await a.createObject<Calc>('Calc', 10);
    const holder = await b.createObject<Holder>('Holder');
    await holder.keep(calc);
    release(calc);
    expect(await holder.callKept(0, 'add', 5)).to.equal(15);
    expect((await a.stats()).exports).to.equal(1);
    expect(await holder.releaseAll()).to.equal(1);
    release(holder);
    await expectNoExports(rt);
    expect(rt.stats().loans).to.equal(0);
  });

  it('releases what a closed apartment held', async () => {
    ({ rt } = await startRuntime());
    const a = await rt.createApartment({ name: 'a' });
    const b = await rt.createApartment({ name: 'b' });
    const calc = await a.createObject<Calc>('Calc');
    const holder = await b.createObject<Holder>('Holder');
    await holder.keep(calc);
    await holder.keep(() => 'host callback');
    release(calc);
    await b.close();
    await expectNoExports(rt);
  });
});
