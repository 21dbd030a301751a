import { expect } from 'chai';
import type { Remote, Runtime } from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import type { Crasher } from '../fixtures/crasher.js';
import { eventually, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime;
// Deadlines far beyond the spec's hang guard: waiting on the busy apartment could only end in a hang.
const patient = { defaultTimeoutMs: 600_000 };

/** Start `spinUntil` in a fresh apartment and wait until its loop runs; store 1 in flag[0] to end it. */
async function busyApartment(): Promise<{ flag: Int32Array; done: Promise<number>; crasher: Remote<Crasher> }> {
  const crasher = await (await rt.createApartment({ name: 'busy' })).createObject<Crasher>('Crasher');
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const done = crasher.spinUntil(flag);
  await eventually(() => {
    expect(Atomics.load(flag, 1)).to.equal(1);
  }, 60_000);
  return { flag, done, crasher };
}

describe('apartments/busy-neighbour: creation never waits on an unrelated busy apartment', () => {
  it('creates an apartment and an object in it while another apartment busy-loops', async () => {
    ({ rt } = await startRuntime(patient));
    const busy = await busyApartment();
    const apt = await rt.createApartment({ name: 'fresh' });
    const calc = await apt.createObject<Calc>('Calc', 40);
    expect(await calc.add(2)).to.equal(42);
    // Only now is the busy apartment let go: everything above completed while it still spun.
    expect(Atomics.load(busy.flag, 0)).to.equal(0);
    Atomics.store(busy.flag, 0, 1);
    expect(await busy.done).to.be.greaterThan(0);
    expect(await busy.crasher.ping()).to.equal('pong');
  });

  it('registers a class and creates it elsewhere while another apartment busy-loops; the busy one learns it later', async () => {
    ({ rt } = await startRuntime(patient));
    const busy = await busyApartment();
    rt.registerClass('LateCalc', { module: fixture('calc.js'), export: 'Calc' });
    const calc = await (await rt.createApartment({ name: 'fresh' })).createObject<Calc>('LateCalc', 1);
    expect(await calc.add(1)).to.equal(2);
    expect(Atomics.load(busy.flag, 0)).to.equal(0);
    Atomics.store(busy.flag, 0, 1);
    await busy.done;
    const busyApt = rt.apartments.find((a) => a.name === 'busy')!;
    const late = await busyApt.createObject<Calc>('LateCalc', 5);
    expect(await late.value()).to.equal(5);
  });
});
