import { expect } from 'chai';
import { release } from '../../lib/index.js';
import { MAX_SHARED_LEASES } from '../../lib/shared-resources.js';
import { hostileScene } from '../fixtures/hostile-scene.js';
import { eventually, expectNoExports } from '../fixtures/runtime-fixture.js';

// A plugin calls shared-resources.acquire directly, in a loop, and never releases: each lease is
// kept by the main apartment until the plugin ends, so what one apartment may hold is bounded.

describe('lib/hostile-shared-resources: the leases one apartment holds are bounded', () => {
  it(`refuses a lease past ${MAX_SHARED_LEASES} with ERROR_BUSY, and drops them all when the plugin ends`, async () => {
    const s = await hostileScene();
    let disposed = 0;
    s.rt.defineSharedResource('conn', { create: () => 42, dispose: () => void disposed++ });
    const acquires = Array.from({ length: MAX_SHARED_LEASES + 10 }, () => ['conn']);
    const { answered, refusal } = await s.hostile.controlMany(0, 'shared-resources.acquire', acquires);
    expect(refusal, 'a lease past the quota is refused').to.not.equal(null);
    expect(refusal!.code).to.equal('ERROR_BUSY');
    expect(refusal!.message).to.match(/^\[shared-quota\]/);
    expect(answered).to.equal(MAX_SHARED_LEASES);
    expect(s.rt.sharedLeases('conn')).to.equal(MAX_SHARED_LEASES);
    const host = await s.rt.acquireShared<number>('conn');
    expect(host.value, 'the host still leases it').to.equal(42);
    await host.release();
    release(s.hostile);
    await s.plugin.close();
    await eventually(() => {
      expect(s.rt.sharedLeases('conn')).to.equal(0);
      expect(disposed).to.equal(1);
    }, 60_000);
    await expectNoExports(s.rt);
  });
});
