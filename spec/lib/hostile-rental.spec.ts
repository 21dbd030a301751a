import { expect } from 'chai';
import { release } from '../../lib/index.js';
import { hostileScene } from '../fixtures/hostile-scene.js';
import { eventually, expectNoExports, fixture } from '../fixtures/runtime-fixture.js';

// A plugin makes rental objects in the main apartment (objects.createObject there; their handles
// live in the main apartment) and lets go of each handle at once. A handle nobody holds can never
// be leased again: what the main apartment kept for it (the constructor arguments included) goes.

describe('lib/hostile-rental: rental objects nobody holds a handle on are not kept', () => {
  it('lets go of the constructor arguments of rental objects whose handles were released', async () => {
    expect(globalThis.gc, 'specs run with --expose-gc').to.be.a('function');
    const s = await hostileScene();
    s.rt.registerClass('RentalCounter', { module: fixture('rental-classes.js'), export: 'RentalCounter' });
    // Each argument is an object of the plugin by reference: kept by the host, it stays exported there.
    await s.hostile.createInMain('RentalCounter', 20);
    await eventually(async () => {
      globalThis.gc!();
      await new Promise((r) => setTimeout(r, 5));
      expect((await s.plugin.stats()).exports, 'only the plugin object itself is still exported').to.equal(1);
    }, 30_000);
    release(s.hostile);
    await expectNoExports(s.rt);
  });
});
