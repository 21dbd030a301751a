import { expect } from 'chai';
import { AtomicCounter, InvalidArgumentError, named, type Remote, type Runtime } from '../../../lib/index.js';
import type { Racer } from '../../fixtures/shared-state-classes.js';
import { eventually, startRuntime } from '../../fixtures/runtime-fixture.js';
import { startRacers } from './racers.js';

let rt: Runtime | undefined;

async function racers(n: number): Promise<Remote<Racer>[]> {
  const started = await startRacers(n);
  rt = started.rt;
  return started.racers;
}

describe('lib/shared-state: named objects are created once, opened after, released at the last close', () => {
  it('has exactly one creator and one initialisation when 5 apartments race, and nobody sees it uninitialised', async () => {
    const rs = await racers(5);
    const inits = await named.counter('segment:inits');
    const results = await Promise.all(rs.map((r) => r.openMemory('segment')));
    expect(results.filter((r) => r.created)).to.have.length(1);
    expect(results.map((r) => r.seen)).to.deep.equal([4242, 4242, 4242, 4242, 4242]);
    expect(inits.value.value).to.equal(1);
    await inits.close();
  });

  it('shares one mutex and one counter by name between the host and apartments', async () => {
    ({ rt } = await startRuntime());
    const a = await named.counter('hits');
    const b = await named.counter('hits');
    expect(a.created).to.equal(true);
    expect(b.created).to.equal(false);
    a.value.add(2);
    expect(b.value.value).to.equal(2);
    await a.close();
    expect(rt.isNamedOpen('hits')).to.equal(true);
    await b.close();
    expect(rt.isNamedOpen('hits')).to.equal(false);
    const m = await named.mutex('door', { level: 1 });
    const g = await m.value.lock();
    g.unlock();
    await m.close();
  });

  it('refuses the same name as another kind or size', async () => {
    ({ rt } = await startRuntime());
    const c = await named.counter('thing');
    expect(await named.memory('thing', 4).catch((e: unknown) => e)).to.be.instanceOf(InvalidArgumentError);
    await c.close();
  });

  it('closes the handles of an apartment that dies', async () => {
    const [r] = await racers(1);
    await r!.openMemory('orphan');
    expect(rt!.isNamedOpen('orphan')).to.equal(true);
    await rt!.apartments[0]!.terminate();
    await eventually(() => {
      expect(rt!.isNamedOpen('orphan')).to.equal(false);
    });
  });
});

describe('lib/shared-state: once()', () => {
  it('builds exactly once while 5 apartments race, and all get the same value', async () => {
    const rs = await racers(5);
    const builds = new AtomicCounter();
    const values = await Promise.all(rs.map((r) => r.buildOnce('config', builds)));
    expect(builds.value).to.equal(1);
    expect(new Set(values).size).to.equal(1);
  });
});
