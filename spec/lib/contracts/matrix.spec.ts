import { expect } from 'chai';
import { isProxy, type Runtime } from '../../../lib/index.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

type Outcome = { landed: number; viaProxy: boolean };
const CLASSES = ['SingleThing', 'AptThing', 'SharedCounter', 'BothThing'] as const;

async function start(): Promise<Runtime> {
  ({ rt } = await startRuntime({ freePoolSize: 2 }));
  for (const name of [...CLASSES, 'PoolCreator', 'WorkerCreator']) rt.registerClass(name, { module: fixture('free-classes.js'), export: name });
  return rt;
}

describe('lib/contracts: the COM placement matrix, with real apartments', () => {
  it('places in-process creations exactly as COM-REFERENCE.md says, for every creator kind and contract', async () => {
    const r = await start();
    const pool = (await r.freePool()).map((a) => a.id);
    const worker = await r.createApartment({ name: 'sta' });
    const workerCreator = await worker.createObject<{ createHere(c: string): Outcome }>('WorkerCreator');
    const poolCreator = await r.createInstance<{ createHere(c: string): Promise<Outcome> }>('PoolCreator');

    const fromMain: Record<string, Outcome> = {};
    for (const c of CLASSES) {
      const obj = await r.createInstance<{ where(): unknown }>(c);
      const w = (await obj.where()) as number | { apartment: number };
      fromMain[c] = { landed: typeof w === 'number' ? w : w.apartment, viaProxy: isProxy(obj) };
    }
    const fromWorker: Record<string, Outcome> = {};
    for (const c of CLASSES) fromWorker[c] = await workerCreator.createHere(c);
    const fromPool: Record<string, Outcome> = {};
    for (const c of CLASSES) fromPool[c] = await poolCreator.createHere(c);
    const host = r.apartments.find((a) => a.name === 'host');

    // main apartment: single here, apartment here, free → pool*, both here
    expect(fromMain.SingleThing).to.deep.equal({ landed: 0, viaProxy: false });
    expect(fromMain.AptThing).to.deep.equal({ landed: 0, viaProxy: false });
    expect(pool).to.include(fromMain.SharedCounter!.landed);
    expect(fromMain.SharedCounter!.viaProxy).to.equal(true);
    expect(fromMain.BothThing).to.deep.equal({ landed: 0, viaProxy: false });
    // other worker apartment: single → main*, apartment here, free → pool*, both here
    expect(fromWorker.SingleThing).to.deep.equal({ landed: 0, viaProxy: true });
    expect(fromWorker.AptThing).to.deep.equal({ landed: worker.id, viaProxy: false });
    expect(pool).to.include(fromWorker.SharedCounter!.landed);
    expect(fromWorker.SharedCounter!.viaProxy).to.equal(true);
    expect(fromWorker.BothThing).to.deep.equal({ landed: worker.id, viaProxy: false });
    // free-pool thread: single → main*, apartment → a host apartment*, free here, both here
    expect(fromPool.SingleThing).to.deep.equal({ landed: 0, viaProxy: true });
    expect(host, 'a host apartment was created').to.not.equal(undefined);
    expect(fromPool.AptThing).to.deep.equal({ landed: host!.id, viaProxy: true });
    expect(pool).to.include(fromPool.SharedCounter!.landed);
    expect(fromPool.SharedCounter!.viaProxy).to.equal(false);
    expect(pool).to.include(fromPool.BothThing!.landed);
    expect(fromPool.BothThing!.viaProxy).to.equal(false);
  });
});
