// The cost of tracing: pipelined and sequential calls with tracing off, with tracing on, and (when
// given a build of the code from before tracing existed, `--trace-baseline=<its dist folder>`)
// with that build, in this one process. Rounds alternate the subjects so a machine that gets
// busier or quieter meanwhile affects them alike; each value is the median over rounds.
import { pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';
import type { BenchRow } from './call-path-bench.js';
import { median, pipelinedRate, sequentialMicros } from './harness.js';

interface TraceSubject {
  readonly name: string;
  start(): Promise<{ sum(a: number, b: number): Promise<unknown>; close(): Promise<void> }>;
}

/** A subject running the runtime of the build whose dist folder is `dist`, with `options`. */
function subject(name: string, dist: string, options: Record<string, unknown>): TraceSubject {
  return {
    name,
    async start() {
      const api = (await import(pathToFileURL(join(dist, 'lib', 'index.js')).href)) as typeof import('../../lib/index.js');
      const rt = await api.Runtime.start({ logger: () => {}, ...options });
      rt.registerClass('Adder', { module: pathToFileURL(join(dist, 'spec', 'bench', 'fixtures', 'adder.js')), export: 'Adder' });
      const adder = await (await rt.createApartment({ name: 'bench' })).createObject<{ sum(a: number, b: number): number }>('Adder');
      return { sum: (a, b) => adder.sum(a, b), close: () => rt.close() };
    },
  };
}

/** Run the tracing cases. */
export async function benchTracing(options: { quick: boolean; baselineDist?: string }): Promise<BenchRow[]> {
  const here = resolve(new URL('../..', import.meta.url).pathname);
  const rounds = options.quick ? 3 : 5;
  const n = options.quick ? 2_000 : 5_000;
  const subjects: TraceSubject[] = [
    subject('tracing off', here, {}),
    subject('tracing on (every apartment, default rings)', here, { trace: true }),
  ];
  if (options.baselineDist) subjects.push(subject('build before tracing existed', resolve(options.baselineDist), {}));
  const pipelined = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const sequential = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const s of subjects) {
      const running = await s.start();
      try {
        await pipelinedRate(n * 4, 256, () => running.sum(1, 2));
        const cpu0 = process.cpuUsage();
        const rate = await pipelinedRate(n * 10, 256, () => running.sum(1, 2));
        const used = process.cpuUsage(cpu0);
        pipelined.set(s.name, [...(pipelined.get(s.name) ?? []), 1e6 / rate]);
        // CPU time of every thread: on a shared machine it varies far less than wall-clock time.
        cpu.set(s.name, [...(cpu.get(s.name) ?? []), (used.user + used.system) / (n * 10)]);
        sequential.set(s.name, [...(sequential.get(s.name) ?? []), await sequentialMicros(n, () => running.sum(1, 2))]);
      } finally {
        await running.close();
      }
    }
  }
  const rows: BenchRow[] = [];
  const PIPE = 'tracing: pipelined calls (256 in flight), host → apartment';
  const SEQ = 'tracing: sequential calls, host → apartment';
  const CPU = 'tracing: process CPU per pipelined call (256 in flight), all threads';
  const CPU_BEFORE = 'tracing off vs the build before it: process CPU per pipelined call, all threads';
  const PIPE_BEFORE = 'tracing off vs the build before it: pipelined calls (256 in flight)';
  const SEQ_BEFORE = 'tracing off vs the build before it: sequential calls';
  for (const s of subjects.slice(0, 2)) {
    rows.push({ case: PIPE, subject: s.name, value: median(pipelined.get(s.name)!), unit: 'µs/call', better: 'lower' });
    rows.push({ case: CPU, subject: s.name, value: median(cpu.get(s.name)!), unit: 'µs CPU/call', better: 'lower' });
    rows.push({ case: SEQ, subject: s.name, value: median(sequential.get(s.name)!), unit: 'µs/call', better: 'lower' });
  }
  if (options.baselineDist) {
    for (const s of [subjects[2]!, subjects[0]!]) {
      rows.push({ case: PIPE_BEFORE, subject: s.name, value: median(pipelined.get(s.name)!), unit: 'µs/call', better: 'lower' });
      rows.push({ case: CPU_BEFORE, subject: s.name, value: median(cpu.get(s.name)!), unit: 'µs CPU/call', better: 'lower' });
      rows.push({ case: SEQ_BEFORE, subject: s.name, value: median(sequential.get(s.name)!), unit: 'µs/call', better: 'lower' });
    }
  }
  return rows;
}
