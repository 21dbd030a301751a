// `npm run bench`: every benchmark case, each subject side by side in this one process, printed as
// a table of medians with the ratio to the case's first subject (raw postMessage where it applies).
// `--json` prints the rows as JSON instead; `--quick` runs fewer iterations.
import { benchApartments } from './apartment-bench.js';
import { benchCallPath, type BenchRow } from './call-path-bench.js';
import { benchGeneratedStubs } from './proxygen-bench.js';
import { benchSharedState } from './shared-state-bench.js';
import { benchTransports } from './transport-bench.js';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');

const rows: BenchRow[] = [];
rows.push(...(await benchCallPath({ quick })));
rows.push(...(await benchApartments({ quick })));
rows.push(...(await benchSharedState({ quick })));
rows.push(...(await benchGeneratedStubs({ quick })));
for (const r of await benchTransports({ quick })) {
  rows.push({ case: `raw transport: ${r.case}`, subject: r.transport, value: r.value, unit: r.unit, better: r.unit.includes('/s') ? 'higher' : 'lower' });
}

/** Value relative to the first subject of the same case. */
function ratio(row: BenchRow): string {
  const base = rows.find((r) => r.case === row.case);
  if (!base || base === row) return 'baseline';
  if (base.value === 0) return 'n/a';
  return `${(row.value / base.value).toFixed(2)}×`;
}

if (json) {
  process.stdout.write(`${JSON.stringify(rows.map((r) => ({ ...r, ratio: ratio(r) })), null, 2)}\n`);
} else {
  const fmt = (v: number): string => (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));
  const lines = rows.map((r) => [r.case, r.subject, `${fmt(r.value)} ${r.unit}`, ratio(r)]);
  const head = ['case', 'subject', 'median', 'vs first'];
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const print = (l: string[]): void => console.log(l.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  print(head);
  for (const l of lines) print(l);
}
process.exit(0);
