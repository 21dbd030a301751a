import { expect } from 'chai';
import { foldRounds, median, reportTable } from '../bench/bench-report.js';
import type { BenchRow } from '../bench/call-path-bench.js';

const row = (c: string, subject: string, value: number): BenchRow => ({ case: c, subject, value, unit: 'µs', better: 'lower' });

describe('bench report: rows folded over interleaved rounds', () => {
  it('shows each row as its median with min–max, and its ratio as the median of its per-round ratios', () => {
    // The machine was twice as busy in round 2: both rows doubled, and the ratio did not move.
    const rounds = [
      [row('seq', 'raw', 10), row('seq', 'runtime', 2), row('cold', 'runtime', 50)],
      [row('seq', 'raw', 20), row('seq', 'runtime', 4), row('cold', 'runtime', 70)],
      [row('seq', 'raw', 12), row('seq', 'runtime', 3), row('cold', 'runtime', 60)],
    ];
    const [raw, runtime, cold] = foldRounds(rounds);
    expect(raw).to.include({ subject: 'raw', median: 12, min: 10, max: 20, baseline: 'raw', ratio: 1 });
    expect(runtime).to.include({ subject: 'runtime', median: 3, min: 2, max: 4, baseline: 'raw', ratio: 0.2 });
    expect(runtime!.values).to.deep.equal([2, 4, 3]);
    expect(cold).to.include({ median: 60, baseline: null, ratio: null });
    const table = reportTable('title line', [raw!, runtime!, cold!]).split('\n');
    expect(table[0]).to.equal('title line');
    expect(table[3]).to.match(/^seq\s+runtime\s+3\.00 µs\s+2\.00–4\.00\s+0\.20× raw$/);
  });

  it('takes the mean of the middle two for an even count, and skips a round where the baseline was missing', () => {
    expect(median([4, 1, 3, 2])).to.equal(2.5);
    const [, runtime] = foldRounds([[row('seq', 'raw', 10), row('seq', 'runtime', 5)], [row('seq', 'runtime', 100)]]);
    expect(runtime).to.include({ median: 52.5, ratio: 0.5 });
  });
});
