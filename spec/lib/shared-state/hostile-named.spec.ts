import { expect } from 'chai';
import { MarshalError, once, release } from '../../../lib/index.js';
import { MAX_NAMED_HANDLES, MAX_ONCE_BUILT, MAX_ONCE_BUILT_BYTES, MAX_ONCE_VALUE_BYTES } from '../../../lib/shared-state/named-registry.js';
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

  it('a create-once value heavier than one may be is refused, and its build passes to the next waiter', async () => {
    const s = await hostileScene();
    await s.hostile.control(0, 'named.onceBegin', 'heavy', 1);
    // The host waits for the plugin's build: it must get the build, not wait for a value never kept.
    const waiter = once('heavy', () => 'the host built it');
    const refused = await s.hostile.control(0, 'named.onceDone', 'heavy', new Uint8Array(MAX_ONCE_VALUE_BYTES + 1)).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(MarshalError);
    expect((refused as Error).message).to.match(/^\[value-too-large\] the value built for once\('heavy'\)/);
    expect(await waiter).to.equal('the host built it');
    release(s.hostile);
    await s.plugin.close();
    await expectNoExports(s.rt);
  });

  it('the create-once values one apartment built weigh at most MAX_ONCE_BUILT_BYTES together', async () => {
    const s = await hostileScene();
    const chunk = new Uint8Array(3 * 2 ** 20);
    const names = Array.from({ length: Math.ceil(MAX_ONCE_BUILT_BYTES / chunk.byteLength) + 2 }, (_, i) => `weighed-${i}`);
    const begun = await s.hostile.controlMany(0, 'named.onceBegin', names.map((n, i) => [n, i]));
    expect(begun.refusal).to.equal(null);
    // One chunk crosses to the plugin (a copy keeps an object once); each completion sends its own copy.
    const { answered, refusal } = await s.hostile.controlMany(0, 'named.onceDone', names.map((n) => [n, chunk]));
    expect(refusal, 'a completion past the quota is refused').to.not.equal(null);
    expect(refusal!.code).to.equal('ERROR_BUSY');
    expect(refusal!.message).to.match(/^\[once-quota\] the create-once values this apartment built weigh \d+ bytes/);
    expect(answered * chunk.byteLength).to.be.at.most(MAX_ONCE_BUILT_BYTES);
    expect((answered + 1) * chunk.byteLength).to.be.above(MAX_ONCE_BUILT_BYTES);
    // The refused name is free again: the host builds it.
    expect(await once(names[answered]!, () => 'the host built it')).to.equal('the host built it');
    release(s.hostile);
    await s.plugin.close();
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
