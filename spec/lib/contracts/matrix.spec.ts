import { expect } from 'chai';
import type { Runtime } from '../../../lib/index.js';
import { createHere, type Outcome, type Probe } from '../../fixtures/free-classes.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';

/** One class per contract, and how to find where an instance landed (ScriptEngine has no where()). */
const CLASSES: readonly (readonly [string, Probe])[] = [
  ['SingleThing', 'where'], ['AptThing', 'where'], ['SharedCounter', 'where'], ['BothThing', 'where'],
  ['RentalCounter', 'lease'], ['ScriptEngine', 'reference'],
];

type Creator = { createHere(className: string, probe: Probe): Promise<Outcome> };

async function start(): Promise<Runtime> {
  const { rt } = await startRuntime({ freePoolSize: 2 });
  for (const name of ['SingleThing', 'AptThing', 'SharedCounter', 'BothThing', 'PoolCreator', 'WorkerCreator']) {
    rt.registerClass(name, { module: fixture('free-classes.js'), export: name });
  }
  rt.registerClass('RentalCounter', { module: fixture('rental-classes.js'), export: 'RentalCounter' });
  return rt;
}

async function createAll(create: (className: string, probe: Probe) => Promise<Outcome>): Promise<Record<string, Outcome>> {
  const outcomes: Record<string, Outcome> = {};
  for (const [c, probe] of CLASSES) outcomes[c] = await create(c, probe);
  return outcomes;
}

describe('lib/contracts: the COM placement matrix, with real apartments', () => {
  it('places in-process creations exactly as the COM ThreadingModel × creator matrix says, for every creator kind and contract', async () => {
    const r = await start();
    const pool = (await r.freePool()).map((a) => a.id);
    const worker = await r.createApartment({ name: 'sta' });
    const workerCreator = await worker.createObject<Creator>('WorkerCreator');
    const poolCreator = await r.createInstance<Creator>('PoolCreator');

    const fromMain = await createAll(createHere);
    const fromWorker = await createAll((c, p) => workerCreator.createHere(c, p));
    const fromPool = await createAll((c, p) => poolCreator.createHere(c, p));
    const host = r.apartments.find((a) => a.name === 'host');

    // main apartment: single here, apartment here, free → pool (a pool handle), both here,
    // rental registered here (its lease handle), script-engine here
    expect(fromMain.SingleThing).to.deep.equal({ creator: 0, landed: 0, got: 'object' });
    expect(fromMain.AptThing).to.deep.equal({ creator: 0, landed: 0, got: 'object' });
    expect(pool).to.include(fromMain.SharedCounter!.landed);
    expect(fromMain.SharedCounter!.got).to.equal('handle');
    expect(fromMain.BothThing).to.deep.equal({ creator: 0, landed: 0, got: 'object' });
    expect(fromMain.RentalCounter).to.deep.equal({ creator: 0, landed: 0, got: 'handle', leasedIn: 0 });
    expect(fromMain.ScriptEngine).to.deep.equal({ creator: 0, landed: 0, got: 'object' });
    // other worker apartment: single → main*, apartment here, free → pool*, both here,
    // rental → main (a proxy to its lease handle; a lease moves it here), script-engine here
    const w = worker.id;
    expect(fromWorker.SingleThing).to.deep.equal({ creator: w, landed: 0, got: 'proxy' });
    expect(fromWorker.AptThing).to.deep.equal({ creator: w, landed: w, got: 'object' });
    expect(pool).to.include(fromWorker.SharedCounter!.landed);
    expect(fromWorker.SharedCounter!.got).to.equal('handle');
    expect(fromWorker.BothThing).to.deep.equal({ creator: w, landed: w, got: 'object' });
    expect(fromWorker.RentalCounter).to.deep.equal({ creator: w, landed: 0, got: 'proxy', leasedIn: w });
    expect(fromWorker.ScriptEngine).to.deep.equal({ creator: w, landed: w, got: 'object' });
    // free-pool thread: single → main*, apartment → a host apartment*, free here, both here,
    // rental → main (a lease moves it to this pool thread), script-engine here (as both)
    expect(host, 'a host apartment was created').to.not.equal(undefined);
    for (const outcome of Object.values(fromPool)) expect(pool).to.include(outcome.creator);
    const p = (c: string): number => fromPool[c]!.creator;
    expect(fromPool.SingleThing).to.deep.equal({ creator: p('SingleThing'), landed: 0, got: 'proxy' });
    expect(fromPool.AptThing).to.deep.equal({ creator: p('AptThing'), landed: host!.id, got: 'proxy' });
    expect(fromPool.SharedCounter).to.deep.equal({ creator: p('SharedCounter'), landed: p('SharedCounter'), got: 'object' });
    expect(fromPool.BothThing).to.deep.equal({ creator: p('BothThing'), landed: p('BothThing'), got: 'object' });
    expect(fromPool.RentalCounter).to.deep.equal({ creator: p('RentalCounter'), landed: 0, got: 'proxy', leasedIn: p('RentalCounter') });
    expect(fromPool.ScriptEngine).to.deep.equal({ creator: p('ScriptEngine'), landed: p('ScriptEngine'), got: 'object' });
  });
});
