// `npm run bench`: every benchmark case, each subject side by side in this one process, printed as
// a table with each row's ratio to the first subject of its case. The ratio names that subject:
// raw postMessage where a baseline exists, otherwise (e.g. cold start vs pool, memory, idle CPU) the
// runtime row the case starts with. Cases with a single row have no ratio.
// `--json` prints the rows as JSON instead (run it as `npm run -s bench -- --json`, or npm's banner
// lines come first); `--json=<file>` writes them to <file> and prints the table as usual.
// `--quick` runs fewer iterations. Both forms name the Node version they were measured on (a text
// line before the table; a `node` field in every JSON row, so rows of runs on different Node lines
// can be put together and still told apart).
// `--only=<word>` runs the cases of the groups whose name holds it (call-path, apartments,
// shared-state, proxygen, streams, transports, tracing, processes); `--trace-baseline=<dist>` adds a build
// from before tracing to the tracing group.
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { benchApartments } from './apartment-bench.js';
import { benchCallPath, type BenchRow } from './call-path-bench.js';
import { benchProcesses } from './process-bench.js';
import { benchGeneratedStubs } from './proxygen-bench.js';
import { benchSharedState } from './shared-state-bench.js';
import { benchStreams } from './stream-bench.js';
import { benchTransports } from './transport-bench.js';
import { benchTracing } from './trace-bench.js';

const jsonArg = process.argv.find((a) => a === '--json' || a.startsWith('--json='));
const jsonFile = jsonArg?.startsWith('--json=') ? jsonArg.slice('--json='.length) : undefined;
const quick = process.argv.includes('--quick');
const baselineArg = process.argv.find((a) => a.startsWith('--trace-baseline='));
/** `--only=<word>` runs only the groups whose name contains it (e.g. --only=tracing). */
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const runs = (group: string): boolean => only === undefined || group.includes(only);

const measured: BenchRow[] = [];
if (runs('call-path')) measured.push(...(await benchCallPath({ quick })));
if (runs('apartments')) measured.push(...(await benchApartments({ quick })));
if (runs('shared-state')) measured.push(...(await benchSharedState({ quick })));
if (runs('proxygen')) measured.push(...(await benchGeneratedStubs({ quick })));
if (runs('streams')) measured.push(...(await benchStreams({ quick })));
if (runs('transports')) {
  for (const r of await benchTransports({ quick })) {
    measured.push({ case: `raw transport: ${r.case}`, subject: r.transport, value: r.value, unit: r.unit, better: r.unit.includes('/s') ? 'higher' : 'lower' });
  }
}
if (runs('processes')) measured.push(...(await benchProcesses({ quick })));
if (runs('tracing')) measured.push(...(await benchTracing({ quick, baselineDist: baselineArg?.slice('--trace-baseline='.length) })));

// Rows of one case together, in the order the cases first appeared; the first row is the baseline.
const cases = [...new Set(measured.map((r) => r.case))];
const rows = cases.flatMap((c) => measured.filter((r) => r.case === c));

/** Value relative to the first subject of the same case, naming that subject. */
function ratio(row: BenchRow): { ratio: number | null; baseline: string | null } {
  const base = rows.find((r) => r.case === row.case)!;
  if (rows.filter((r) => r.case === row.case).length === 1) return { ratio: null, baseline: null };
  return { ratio: base.value === 0 ? null : row.value / base.value, baseline: base.subject };
}

function ratioText(row: BenchRow): string {
  const { ratio: r, baseline } = ratio(row);
  if (baseline === null) return '';
  if (baseline === row.subject) return 'baseline';
  return r === null ? `n/a (${baseline} is 0)` : `${r.toFixed(2)}× ${baseline}`;
}

const asJson = (): string => `${JSON.stringify(rows.map((r) => ({ ...r, ...ratio(r), node: process.version })), null, 2)}\n`;

if (jsonArg && !jsonFile) {
  process.stdout.write(asJson());
} else {
  if (jsonFile) writeFileSync(jsonFile, asJson());
  const fmt = (v: number): string => (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));
  const lines = rows.map((r) => [r.case, r.subject, `${fmt(r.value)} ${r.unit}`, ratioText(r)]);
  const head = ['case', 'subject', 'value', 'ratio to the case\'s first row'];
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const print = (l: string[]): void => console.log(l.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  console.log(`Node ${process.version} (${process.platform} ${process.arch}, ${availableParallelism()} cores)${quick ? ', quick run' : ''}`);
  print(head);
  for (const l of lines) print(l);
}
process.exit(0);
