// `npm run bench`: every benchmark case, each subject side by side in this one process, printed as
// a table of medians with the ratio to raw postMessage (or to the case's own baseline).
// `--json` prints the rows as JSON instead; `--quick` runs fewer iterations.
import { benchCallPath, type BenchRow } from './call-path-bench.js';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');

const rows: BenchRow[] = [];
rows.push(...(await benchCallPath({ quick })));

/** Ratio against the first subject of the same case (the baseline); for rates, higher is better. */
function ratio(row: BenchRow): string {
  const base = rows.find((r) => r.case === row.case);
  if (!base || base === row) return 'baseline';
  return `${(row.value / base.value).toFixed(2)}×`;
}

if (json) {
  process.stdout.write(`${JSON.stringify(rows.map((r) => ({ ...r, ratioToBaseline: ratio(r) })), null, 2)}\n`);
} else {
  const fmt = (v: number): string => (v >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));
  const lines = rows.map((r) => [r.case, r.subject, `${fmt(r.value)} ${r.unit}`, ratio(r)]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...lines.map((l) => l[i]!.length), ['case', 'subject', 'median', 'vs baseline'][i]!.length));
  const print = (l: string[]): void => console.log(l.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  print(['case', 'subject', 'median', 'vs baseline']);
  for (const l of lines) print(l);
}
process.exit(0);
