import { expect } from 'chai';
import { release } from '../../lib/index.js';
import { hostileScene, type HostileScene } from '../fixtures/hostile-scene.js';
import { expectNoExports } from '../fixtures/runtime-fixture.js';

// A plugin asks the runtime where to place objects (runtime.place), naming a new sized pool
// each time: { policy: 'round-robin', apartments: n } for n = 1, 2, 3… The runtime's cap on the
// apartments policies start holds, and a pool that got no apartment of its own is not kept.

function groups(s: HostileScene): number {
  return (s.rt as unknown as { assignments: { groups: Map<unknown, unknown> } }).assignments.groups.size;
}

describe('apartments/hostile-placement: assignment pools a plugin names are not kept without apartments', () => {
  it('keeps no group for each of 300 pool sizes past the cap', async () => {
    const s = await hostileScene({ maxApartments: 2 });
    const before = groups(s);
    const places = Array.from({ length: 300 }, (_, i) => ['Calc', 'external', { policy: 'round-robin', apartments: i + 1 }]);
    const { answered, refusal } = await s.hostile.controlMany(0, 'runtime.place', places);
    expect(refusal).to.equal(null);
    expect(answered).to.equal(300);
    expect(s.rt.apartments.length, 'the cap held').to.be.at.most(4);
    expect(groups(s) - before, 'only the pools that started an apartment are kept').to.be.at.most(2);
    release(s.hostile);
    await expectNoExports(s.rt);
  });
});
