// `npm run bench`: every benchmark case, each subject side by side in this one process, printed as
// a table with each row's ratio to the first subject of its case. The ratio names that subject:
// raw postMessage where a baseline exists, otherwise (e.g. cold start vs pool, memory, idle CPU) the
// runtime row the case starts with. Cases with a single row have no ratio.
// Every group runs `--rounds=<n>` times (3; 2 with `--quick`), interleaved: round 1 of every group,
// then round 2, and so on, baselines in the same rounds as what they are compared with. A row shows
// its median over the rounds with the range it moved in; its ratio is the median of its per-round
// ratios (bench-report.ts).
// `--loaded` runs one CPU-bound process beside the bench for its whole length (cpu-load.ts); a run
// without it waits before each group until other processes leave the cores alone (machine-settle.ts).
// `--json` prints the rows as JSON instead (run it as `npm run -s bench -- --json`, or npm's banner
// lines come first); `--json=<file>` writes them to <file> and prints the table as usual.
// `--quick` runs fewer iterations. Both forms name the Node version they were measured on (a text
// line before the table; a `node` field in every JSON row, so rows of runs on different Node lines
// can be put together and still told apart).
// `--only=<word>` runs the cases of the groups whose name holds it (call-path, apartments,
// shared-state, proxygen, streams, transports, tracing, processes, cluster); `--trace-baseline=<dist>` adds a build
// from before tracing to the tracing group.
// `--cluster` adds the cluster group (cluster-bench.ts): a call to an apartment on another node over
// NATS beside a raw NATS round trip, nc.request() and a process apartment call. It starts its own
// nats-server (which must be on PATH), an echo process and a node process each round, so it runs
// only with this flag: `npm run bench -- --cluster --only=cluster` runs it alone.
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { foldRounds, reportTable } from './bench-report.js';
import { startCpuLoad } from './cpu-load.js';
import { settleMachine } from './machine-settle.js';
import { benchApartments } from './apartment-bench.js';
import { benchCallPath, type BenchRow } from './call-path-bench.js';
import { benchCoScheduling } from './co-scheduling-bench.js';
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

const roundsArg = process.argv.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length);
const rounds = roundsArg === undefined ? (quick ? 2 : 3) : Number(roundsArg);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`[bench-args] --rounds=${roundsArg} is not a whole number of rounds; pass --rounds=3, for example`);
const loaded = process.argv.includes('--loaded');
/** `--cluster` adds the cluster group, the only one that starts nats-server. */
const cluster = process.argv.includes('--cluster');
// Loaded only with --cluster: the NATS client is an optional peer, which the other groups never need.
const clusterGroup = cluster && runs('cluster') ? await import('./cluster-bench.js') : undefined;
clusterGroup?.requireNatsServer();
const otherGroups = ['call-path', 'apartments', 'shared-state', 'proxygen', 'streams', 'transports', 'processes', 'tracing'];
if (!cluster && only !== undefined && runs('cluster') && !otherGroups.some(runs)) {
  throw new Error(`[bench-args] --only=${only} names only the cluster group, which runs only with --cluster (it starts nats-server); pass --cluster too`);
}

/**
 * Whether `group` runs; in a quiet run, first wait for the machine to be quiet (machine-settle.ts:
 * a group must not start with the spin gate still reading the previous group's child processes).
 */
async function starting(group: string): Promise<boolean> {
  if (!runs(group)) return false;
  if (loaded) return true;
  const found = await settleMachine();
  if (found.state === 'busy') process.stderr.write(`bench: before ${group}, other processes still kept ${found.cores} core(s) busy after the longest wait; its rows may run with spinning off\n`);
  return true;
}

/** One round of every group that runs. */
async function round(): Promise<BenchRow[]> {
  const measured: BenchRow[] = [];
  if (await starting('call-path')) measured.push(...(await benchCallPath({ quick })));
  if (await starting('apartments')) measured.push(...(await benchApartments({ quick })));
  if (await starting('shared-state')) measured.push(...(await benchSharedState({ quick })));
  if (await starting('proxygen')) measured.push(...(await benchGeneratedStubs({ quick })));
  if (await starting('streams')) measured.push(...(await benchStreams({ quick })));
  if (await starting('transports')) {
    for (const r of await benchTransports({ quick })) {
      measured.push({ case: `raw transport: ${r.case}`, subject: r.transport, value: r.value, unit: r.unit, better: r.unit.includes('/s') ? 'higher' : 'lower' });
    }
    measured.push(...(await benchCoScheduling({ quick })));
  }
  if (await starting('processes')) measured.push(...(await benchProcesses({ quick })));
  if (await starting('tracing')) measured.push(...(await benchTracing({ quick, baselineDist: baselineArg?.slice('--trace-baseline='.length) })));
  // Last: it makes this process a node with a runtime of its own, and every group above closed theirs.
  if (clusterGroup && (await starting('cluster'))) measured.push(...(await clusterGroup.benchCluster({ quick })));
  return measured;
}

const load = loaded ? startCpuLoad(1) : [];
const perRound: BenchRow[][] = [];
for (let i = 0; i < rounds; i++) {
  if (!jsonArg || jsonFile) process.stderr.write(`bench: round ${i + 1} of ${rounds}\n`);
  perRound.push(await round());
}
for (const l of load) l.stop();
const rows = foldRounds(perRound);

const title = `Node ${process.version} (${process.platform} ${process.arch}, ${availableParallelism()} cores), ${rounds} round${rounds === 1 ? '' : 's'}${quick ? ', quick run' : ''}${loaded ? ', loaded: one CPU-bound process beside the bench' : ''}`;
const asJson = (): string => `${JSON.stringify(rows.map((r) => ({ ...r, value: r.median, node: process.version, loaded })), null, 2)}\n`;

if (jsonArg && !jsonFile) {
  process.stdout.write(asJson());
} else {
  if (jsonFile) writeFileSync(jsonFile, asJson());
  console.log(reportTable(title, rows));
}
process.exit(0);
