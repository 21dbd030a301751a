import { expect } from 'chai';
import { release } from '../../lib/index.js';
import { hostileScene, type HostileScene } from '../fixtures/hostile-scene.js';
import { expectNoExports } from '../fixtures/runtime-fixture.js';

// A plugin reports waits that never happened (runtime.waitAdded is a one-way notification any
// apartment may send about itself): as many as it likes, as large as the checks let through, and
// chained as long as it likes. The host keeps a bounded share of them per apartment, and the
// deadlock detector still finds cycles through what it keeps.

/** Chain ids far from any the runtime hands out in these specs. */
const BASE = 7 * 2 ** 32;

function detectorSize(s: HostileScene): number {
  return (s.rt as unknown as { waits: { size: number } }).waits.size;
}

function notifyFailures(s: HostileScene): string[] {
  return s.logs.filter((e) => e.message.startsWith('[notify]') && e.message.includes('runtime.waitAdded')).map((e) => e.message);
}

describe('apartments/hostile-waits: made-up wait-for edges do not grow the host or blind the deadlock detector', () => {
  it('keeps a bounded share of one apartment\'s edges, and says why it refuses the rest', async () => {
    const s = await hostileScene();
    // Each edge as heavy as the checks allow: 1,024 holders and 1,024-character names.
    await s.hostile.madeUpWaits(BASE, 3_000, { holders: 1_024, padding: 1_024 });
    const refused = notifyFailures(s);
    expect(refused.length, 'edges past the share are refused').to.be.greaterThan(0);
    expect(refused[0]).to.contain('[wait-quota]').and.contain(s.plugin.label);
    expect(detectorSize(s), 'the host kept only a share of them').to.be.below(3_000);
    release(s.hostile);
    await s.plugin.close();
    expect(detectorSize(s), 'and forgot them with the plugin').to.equal(0);
    await expectNoExports(s.rt);
  });

  it('finds a cycle closed through a chain of 200 made-up waits', async () => {
    const s = await hostileScene();
    await s.hostile.madeUpWaits(BASE, 200, { cycle: true });
    expect(notifyFailures(s), 'no report failed').to.deep.equal([]);
    const found = s.logs.filter((e) => e.message.startsWith('[deadlock]') && e.apartment === s.plugin.id);
    expect(found.length, 'the detector walked the whole chain and found the cycle').to.equal(1);
    release(s.hostile);
    await expectNoExports(s.rt);
  });

  it('closing a cycle through a chain of 30,000 made-up waits fails no report: the walk stops, and says so', async () => {
    const s = await hostileScene();
    await s.hostile.madeUpWaits(BASE, 30_000, { cycle: true });
    expect(notifyFailures(s), 'no report failed (the walk once recursed past the stack)').to.deep.equal([]);
    const cut = s.logs.filter((e) => e.message.startsWith('[wait-walk]') && e.apartment === s.plugin.id);
    expect(cut.length, 'the last report walked no further than its budget').to.equal(1);
    release(s.hostile);
    await expectNoExports(s.rt);
  });

  it('walks a bounded part of the graph per report: a chain reported from its far end does not cost the host its square', async () => {
    const s = await hostileScene();
    // Reported backward, each new wait leads along every one before it: 20,000 reports walked
    // 200 million edges on the main thread.
    await s.hostile.madeUpWaits(BASE, 20_000, { backward: true });
    expect(notifyFailures(s), 'no report failed').to.deep.equal([]);
    const cut = s.logs.filter((e) => e.message.startsWith('[wait-walk]') && e.apartment === s.plugin.id);
    expect(cut.length, 'the host says where it stopped looking').to.be.greaterThan(0);
    expect(cut[0]!.message).to.contain(s.plugin.label);
    release(s.hostile);
    await expectNoExports(s.rt);
  });
});
