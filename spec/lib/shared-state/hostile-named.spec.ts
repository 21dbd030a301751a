import { expect } from 'chai';
import { once, release } from '../../../lib/index.js';
import { MAX_NAMED_HANDLES, MAX_ONCE_BUILT } from '../../../lib/shared-state/named-registry.js';
import { hostileScene } from '../../fixtures/hostile-scene.js';
import { expectNoExports } from '../../fixtures/runtime-fixture.js';

// A plugin calls the named service (named objects and once()) directly, as hostile code in an
// apartment can: what it makes the main apartment keep for it is bounded like what it builds.

describe('lib/shared-state/hostile-named: what a plugin makes the named service keep is bounded', () => {
  it('create-once values begun and never finished count against the apartment\'s once() quota', async () => {
    const s = await hostileScene();
    const begins = Array.from({ length: MAX_ONCE_BUILT + 10 }, (_, i) => [`begun-${i}-${'x'.repeat(1_000)}`, i]);
    const { answered, refusal } = await s.hostile.controlMany(0, 'named.onceBegin', begins);
    expect(refusal, 'a begin past the quota is refused').to.not.equal(null);
    expect(refusal!.code).to.equal('ERROR_BUSY');
    expect(refusal!.message).to.match(/^\[once-quota\]/);
    expect(answered).to.equal(MAX_ONCE_BUILT);
    release(s.hostile);
    await s.plugin.close();
    // The names it held pass on: the host builds one of them itself.
    const value = await once('begun-0-' + 'x'.repeat(1_000), () => 'the host built it');
    expect(value).to.equal('the host built it');
    await expectNoExports(s.rt);
  });

  it('handles on one name count against the apartment\'s quota, as names and waits do', async () => {
    const s = await hostileScene();
    const opens = Array.from({ length: MAX_NAMED_HANDLES + 10 }, (_, i) => ['counter', 'opened-again', 8, i]);
    const { answered, refusal } = await s.hostile.controlMany(0, 'named.open', opens);
    expect(refusal, 'an open past the quota is refused').to.not.equal(null);
    expect(refusal!.code).to.equal('ERROR_BUSY');
    expect(refusal!.message).to.match(/^\[named-quota\]/);
    expect(answered).to.equal(MAX_NAMED_HANDLES);
    release(s.hostile);
    await s.plugin.close();
    expect(s.rt.isNamedOpen('opened-again'), 'its handles closed with it').to.equal(false);
    await expectNoExports(s.rt);
  });
});
