import { expect } from 'chai';
import { corpusTable, runCorpus } from './corpus-harness.js';

describe('lib/cli: apartment-proxygen on the interfaces of widely used packages', function () {
  // Two type-checker passes over several large declaration files and one over the output: slow on
  // a busy machine, and nothing here waits on a timer.
  this.timeout(30 * 60_000);

  it('makes at least 80% of the interfaces with a method usable, refuses the rest with a reason, and is never silently wrong', () => {
    const rows = runCorpus();
    console.log(`\n${corpusTable(rows)}\n`);
    const refused = rows.filter((r) => r.verdict.kind === 'refused');
    for (const r of refused) console.log(`  refused  ${r.iface.pkg} ${r.iface.name}: ${'why' in r.verdict ? r.verdict.why : ''}`);
    const wrong = rows.filter((r) => r.verdict.kind === 'silently wrong').map((r) => `${r.iface.pkg} ${r.iface.name}: ${'why' in r.verdict ? r.verdict.why : ''}`);
    expect(new Set(rows.map((r) => r.iface.pkg)).size, 'packages').to.be.at.least(6);
    expect(rows.length, 'interfaces with a method').to.be.at.least(150);
    expect(wrong, 'silently wrong').to.deep.equal([]);
    const usable = rows.filter((r) => r.verdict.kind === 'usable').length;
    expect(usable / rows.length, `usable: ${usable} of ${rows.length}`).to.be.at.least(0.8);
    for (const r of refused) expect('why' in r.verdict && r.verdict.why.length > 0, `${r.iface.name} is refused with a reason`).to.equal(true);
  });
});
