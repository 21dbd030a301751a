// Process apartment cases: a call into a process apartment (on its server's main thread, and on a
// later thread that the main thread relays) beside raw child-process IPC request/reply (the
// baseline, same channel settings) and a worker apartment call, measured side by side in this run:
// all four subjects run at once and take turns, round after round, so a machine that gets busier or
// quieter meanwhile (raw IPC alone moved between 45 and 83 µs a call from one run to the next) falls
// on all of them alike. Then the cold start of a process apartment beside a worker apartment's, and
// the resident memory of one idle process apartment. Each figure is the median of 5 rounds (3 with --quick).
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Runtime, type Remote } from '../../lib/index.js';
import type { BenchRow } from './call-path-bench.js';
import type { Adder } from './fixtures/adder.js';
import type { BenchFactory } from './fixtures/stream-producer.js';
import { median, medianOf, pipelinedRate, sequentialMicros } from './harness.js';
import { factoryPair, pipelinePairRows } from './pipeline-pair.js';
import { startAdderRuntime } from './subjects.js';

interface Summer {
  readonly name: string;
  sum(a: number, b: number): Promise<number>;
  close(): Promise<void>;
}

/** Raw request/reply over a forked child's IPC channel (serialization 'advanced'). */
async function rawIpc(): Promise<Summer> {
  const child = fork(fileURLToPath(new URL('./workers/raw-ipc-echo.js', import.meta.url)), [], { serialization: 'advanced' });
  const pending = new Map<number, (v: number) => void>();
  let nextId = 1;
  child.on('message', (msg) => {
    const [id, value] = msg as [number, number];
    pending.get(id)?.(value);
    pending.delete(id);
  });
  await new Promise((r) => child.once('spawn', r));
  return {
    name: 'raw child-process IPC',
    sum: (a, b) => new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send([id, a, b]);
    }),
    close: async () => {
      child.kill();
    },
  };
}

/** Where an Adder runs: a process's main thread, a later thread of a process server (relayed by its main thread), or a worker thread. */
const HOME_NAMES = {
  process: 'process apartment',
  'process-thread': 'process apartment on a later thread of its server',
  worker: 'worker apartment (shared memory)',
} as const;

/** An Adder in each home, in one runtime (one runtime may run per process). */
async function apartmentSummers(): Promise<Summer[]> {
  const rt = await startAdderRuntime('shared-memory');
  const main = await rt.createApartment({ process: 'bench' });
  const later = await rt.createApartment({ process: 'bench' });
  const worker = await rt.createApartment({});
  const homes: [keyof typeof HOME_NAMES, Remote<Adder>][] = [];
  for (const [home, apt] of [['process', main], ['process-thread', later], ['worker', worker]] as const) homes.push([home, await apt.createObject<Adder>('Adder')]);
  let open = homes.length;
  return homes.map(([home, adder]) => ({
    name: HOME_NAMES[home],
    sum: (a, b) => adder.sum(a, b),
    // The runtime closes with the last subject.
    close: async () => {
      if (--open === 0) await rt.close();
    },
  }));
}

/** The pipelining pair case over a process apartment's IPC link (the stream group runs it over the thread links). */
async function processPair(pairs: number): Promise<BenchRow[]> {
  const rt = await Runtime.start({ logger: () => {} });
  try {
    const module = new URL('./fixtures/stream-producer.js', import.meta.url);
    for (const name of ['BenchFactory', 'BenchChild']) rt.registerClass(name, { module, export: name });
    const apt = await rt.createApartment({ process: 'bench-pipeline' });
    return await pipelinePairRows(factoryPair(await apt.createObject<BenchFactory>('BenchFactory')), 'child-process IPC', pairs);
  } finally {
    await rt.close();
  }
}

/** Kilobytes of resident memory of process `pid` (Linux), or undefined elsewhere. */
function residentKb(pid: number): number | undefined {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  } catch {
    return undefined;
  }
}

/** Run the process apartment cases. */
export async function benchProcesses(options: { quick: boolean }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const runs = options.quick ? 3 : 5;
  const seq = options.quick ? 2_000 : 5_000;
  const pipe = options.quick ? 20_000 : 60_000;
  const subjects = [await rawIpc()];
  try {
    subjects.push(...(await apartmentSummers()));
    for (const s of subjects) for (let i = 0; i < 4_000; i++) await s.sum(1, 2);
    const sequential = subjects.map((): number[] => []);
    const pipelined = subjects.map((): number[] => []);
    for (let round = 0; round < runs; round++) {
      for (const [i, s] of subjects.entries()) sequential[i]!.push(await sequentialMicros(seq, () => s.sum(1, 2)));
      for (const [i, s] of subjects.entries()) pipelined[i]!.push(await pipelinedRate(pipe, 64, () => s.sum(1, 2)));
    }
    for (const [i, s] of subjects.entries()) {
      rows.push({ case: 'process: sequential small call', subject: s.name, value: median(sequential[i]!), unit: 'µs/call', better: 'lower' });
    }
    for (const [i, s] of subjects.entries()) {
      rows.push({ case: 'process: pipelined small calls, 64 in flight', subject: s.name, value: median(pipelined[i]!), unit: 'calls/s', better: 'higher' });
    }
  } finally {
    for (const s of subjects) await s.close();
  }
  rows.push(...(await processPair(options.quick ? 2_000 : 10_000)));
  const rt = await startAdderRuntime('shared-memory');
  try {
    for (const where of ['worker', 'process'] as const) {
      const ms = await medianOf(runs, async () => {
        const t0 = performance.now();
        const apt = await rt.createApartment(where === 'process' ? { process: 'cold' } : {});
        const elapsed = performance.now() - t0;
        await apt.close();
        return elapsed;
      });
      rows.push({ case: 'process: cold start until the apartment serves', subject: `${where} apartment`, value: ms, unit: 'ms', better: 'lower' });
    }
    const apt = await rt.createApartment({ process: 'memory' });
    await (await apt.createObject<Adder>('Adder')).sum(1, 2);
    const kb = residentKb(Number(/^process (\d+)$/.exec(apt.hostIdentity)?.[1]));
    if (kb !== undefined) rows.push({ case: 'process: resident memory of one idle process apartment', subject: 'process apartment', value: kb / 1024, unit: 'MiB', better: 'lower' });
    await apt.close();
  } finally {
    await rt.close();
  }
  return rows;
}
