import { expect } from 'chai';
import { CallTimeoutError, release, type Runtime } from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import type { Crasher } from '../fixtures/crasher.js';
import type { Holder } from '../fixtures/holder.js';
import { eventually, expectNoExports, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime;

describe('apartments/slow-exporter: a reference hand-off survives an exporter busier than the receiver\'s deadline', () => {
  it('gives the receiver a working proxy once the exporter answers, and every count balances', async () => {
    ({ rt } = await startRuntime());
    const exporter = await rt.createApartment({ name: 'exporter' });
    const calc = await exporter.createObject<Calc>('Calc', 7);
    const crasher = await exporter.createObject<Crasher>('Crasher');
    // The receiver's calls give up after 100 ms: far less than the exporter will be stalled.
    const holder = await (await rt.createApartment({ name: 'receiver', defaultTimeoutMs: 100 })).createObject<Holder>('Holder');
    const flag = new Int32Array(new SharedArrayBuffer(8));
    const spinning = crasher.spinUntil(flag);
    await eventually(() => {
      expect(Atomics.load(flag, 1)).to.equal(1);
    }, 60_000);
    // The host lends its reference: the receiver must take its own from the stalled exporter.
    expect(await holder.keep(calc)).to.equal(1);
    // A call through the new proxy, sent after its AddRef, times out: so the AddRef has been
    // outstanding for longer than the receiver's deadline too.
    const late = await holder.callKept(0, 'sum', 1, 1).catch((e: unknown) => e);
    expect(late).to.be.instanceOf(CallTimeoutError);
    Atomics.store(flag, 0, 1);
    await spinning;
    // The receiver's own short deadline still applies to this call, so a loaded machine may need a retry.
    await eventually(async () => {
      expect(await holder.callKept(0, 'sum', 2, 3)).to.equal(5);
    }, 120_000);
    expect(await holder.releaseAll()).to.equal(1);
    release(calc);
    release(crasher);
    release(holder);
    await expectNoExports(rt);
  });
});
