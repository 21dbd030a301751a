// What `npm run bench` prints: every row as the median of its rounds with the range it moved in,
// and its ratio to the first row of its case. The baselines run in the same rounds as the rows they
// are compared with, so a row's ratio is the median of its per-round ratios: a round measured while
// the machine was busier moves the row and its baseline together, not the ratio.
import type { BenchRow } from './call-path-bench.js';

/** One row of the report: a case's subject, over every round it was measured in. */
export interface ReportRow {
  case: string;
  subject: string;
  unit: string;
  better: 'higher' | 'lower';
  /** The median, minimum and maximum over the rounds. */
  median: number;
  min: number;
  max: number;
  /** Every round's value, in round order. */
  values: number[];
  /** The first row of the case, which the ratio is to; null where the case has one row. */
  baseline: string | null;
  /** The median over the rounds of this row's value / the baseline's value in the same round. */
  ratio: number | null;
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Rows of every round (`rounds[i]` is round i's rows) folded into one report row per case and subject. */
export function foldRounds(rounds: readonly BenchRow[][]): ReportRow[] {
  const key = (r: BenchRow): string => `${r.case}\u0000${r.subject}`;
  const order: BenchRow[] = [];
  const seen = new Set<string>();
  for (const round of rounds) {
    for (const r of round) {
      if (seen.has(key(r))) continue;
      seen.add(key(r));
      order.push(r);
    }
  }
  // Rows of one case together, in the order the cases first appeared; the first row is the baseline.
  const cases = [...new Set(order.map((r) => r.case))];
  const sorted = cases.flatMap((c) => order.filter((r) => r.case === c));
  return sorted.map((first) => {
    const values = rounds.flatMap((round) => round.filter((r) => key(r) === key(first)).map((r) => r.value));
    const base = sorted.find((r) => r.case === first.case)!;
    const single = sorted.filter((r) => r.case === first.case).length === 1;
    const perRound = rounds.flatMap((round) => {
      const mine = round.find((r) => key(r) === key(first));
      const theirs = round.find((r) => key(r) === key(base));
      return mine && theirs && theirs.value !== 0 ? [mine.value / theirs.value] : [];
    });
    return {
      case: first.case,
      subject: first.subject,
      unit: first.unit,
      better: first.better,
      median: median(values),
      min: Math.min(...values),
      max: Math.max(...values),
      values,
      baseline: single ? null : base.subject,
      ratio: single || perRound.length === 0 ? null : median(perRound),
    };
  });
}

const fmt = (v: number): string => (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));

/** The report as a text table, headed by `title`. */
export function reportTable(title: string, rows: readonly ReportRow[]): string {
  const ratioText = (row: ReportRow): string => {
    if (row.baseline === null) return '';
    if (row.baseline === row.subject) return 'baseline';
    return row.ratio === null ? `n/a (${row.baseline} is 0)` : `${row.ratio.toFixed(2)}× ${row.baseline}`;
  };
  const range = (row: ReportRow): string => (row.values.length < 2 ? '' : `${fmt(row.min)}–${fmt(row.max)}`);
  const lines = rows.map((r) => [r.case, r.subject, `${fmt(r.median)} ${r.unit}`, range(r), ratioText(r)]);
  const head = ['case', 'subject', 'median', 'min–max', "ratio to the case's first row"];
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const line = (l: string[]): string => l.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [title, line(head), ...lines.map(line)].join('\n');
}
