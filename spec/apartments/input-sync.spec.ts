import { expect } from 'chai';
import { CantCallOutError, type Remote, type Runtime } from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import type { Painter } from '../fixtures/input-sync-classes.js';
import { fixture, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

async function start(): Promise<{ painter: Remote<Painter>; calc: Remote<Calc> }> {
  ({ rt } = await startRuntime());
  rt.registerClass('Painter', { module: fixture('input-sync-classes.js'), export: 'Painter' });
  const painter = await (await rt.createApartment({ name: 'ui' })).createObject<Painter>('Painter');
  const calc = await (await rt.createApartment({ name: 'peer' })).createObject<Calc>('Calc');
  return { painter, calc };
}

describe('apartments/input-sync: an input-synchronous method may not call other apartments (rule 17)', () => {
  it('refuses a call through a proxy with CantCallOutError, also after an await, and the callee never runs', async () => {
    const { painter, calc } = await start();
    for (const err of [await painter.paint(calc).catch((e: unknown) => e), await painter.paintAfterAwait(calc).catch((e: unknown) => e)]) {
      expect(err).to.be.instanceOf(CantCallOutError);
      expect(err).to.have.property('code', 'RPC_E_CANTCALLOUT_ININPUTSYNCCALL');
      expect((err as Error).message).to.match(/^\[input-sync\] call 'add' to /);
    }
    expect(await calc.value()).to.equal(0);
  });

  it('refuses creating an object through the assignment policy', async () => {
    const { painter } = await start();
    expect(await painter.paintNewObject().catch((e: unknown) => e)).to.be.instanceOf(CantCallOutError);
  });

  it('still lets it use objects of its own apartment, and lets ordinary methods call out', async () => {
    const { painter, calc } = await start();
    expect(await painter.paintLocally()).to.equal(1);
    expect(await painter.work(calc)).to.equal(1);
  });
});
