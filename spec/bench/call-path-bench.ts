// Call-path cases: the same calls through every subject in one process run, so the ratios to raw
// postMessage are measured under the same machine load. Every subject is alive for the whole
// group and the subjects take turns: run k of a case measures each subject in turn (starting with
// a different one each run), so a slow stretch of the machine, or a garbage collection of the
// main thread, falls on all of them alike. Each figure is the median of 5 runs (3 with --quick), a
// run's figure being the mean over its calls. The buffer cases do the same for every subject:
// "copied" copies the buffer both ways, "transferred" moves it both ways; so do the array and Map.
import { coldMicros, median, pipelinedRate, sequentialMicros } from './harness.js';
import { comlink, piscina, rawPostMessage, rawSharedRing, runtimeBothLinks, type Subject } from './subjects.js';

/** One measured figure. */
export interface BenchRow {
  case: string;
  subject: string;
  value: number;
  unit: string;
  /** For rates: higher is better; for times and sizes: lower is better. */
  better: 'higher' | 'lower';
}

const hundredFields = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`field${i}`, i % 3 === 0 ? `v${i}` : i]));
// Large structured values: what the runtime walks (to find functions and by-reference objects) and
// weighs (the strings a copy would carry) before structured clone copies it.
const records = Array.from({ length: 2_000 }, (_, i) => ({ id: i, name: `record ${i}`, tags: ['a', 'b'], score: i / 3 }));
const entries = new Map(Array.from({ length: 5_000 }, (_, i) => [`key${i}`, { i }]));

/** One case: what it measures of a subject, and how its figures read. */
interface Case {
  name: string;
  unit: string;
  better: 'higher' | 'lower';
  measure(s: Subject): Promise<number>;
}

/** Start every subject; the runtime's two links share one runtime. */
async function startSubjects(): Promise<Subject[]> {
  const started: Subject[] = [];
  try {
    started.push(await rawPostMessage());
    started.push(...(await runtimeBothLinks()));
    started.push(await rawSharedRing());
    started.push(await comlink());
    started.push(await piscina());
    return started;
  } catch (err) {
    await closeAll(started);
    throw err;
  }
}

async function closeAll(subjects: Subject[]): Promise<void> {
  for (const s of subjects) await s.close();
}

/** Run the call-path cases for every subject. */
export async function benchCallPath(options: { quick: boolean }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const runs = options.quick ? 3 : 5;
  const seq = options.quick ? 2_000 : 5_000;
  const pipe = options.quick ? 20_000 : 100_000;
  const cold = 1_000;
  const subjects = await startSubjects();
  try {
    // The first calls after start, before any warm-up: what a short-lived program sees. One run per
    // subject, in turn; the runtime's main-thread code is shared by its two links, so the second
    // link's first calls find that side warm, as a program's second apartment does.
    for (const s of subjects) {
      rows.push({ case: `sequential small call, first ${cold} calls after start (cold, one run)`, subject: s.name, value: await coldMicros(cold, () => s.sum(1, 2)), unit: 'µs/call', better: 'lower' });
    }
    // Warm up each subject to its steady state: optimised code on both threads, and for the
    // shared-memory channel, the spin-or-park choice settled (it adapts to recent wake-ups).
    for (const s of subjects) for (let i = 0; i < 8_000; i++) await s.sum(1, 2);
    const cases: Case[] = [
      { name: 'sequential small call', unit: 'µs/call', better: 'lower', measure: (s) => sequentialMicros(seq, () => s.sum(1, 2)) },
      ...[64, 1024].map((depth): Case => ({ name: `pipelined small calls, ${depth} in flight`, unit: 'calls/s', better: 'higher', measure: (s) => pipelinedRate(pipe, depth, () => s.sum(1, 2)) })),
      { name: '100-field object argument, 64 in flight', unit: 'calls/s', better: 'higher', measure: (s) => pipelinedRate(pipe / 4, 64, () => s.echo(hundredFields)) },
      { name: '64 KiB buffer copied', unit: 'µs/call', better: 'lower', measure: (s) => sequentialMicros(seq / 4, () => s.echo(new ArrayBuffer(65_536))) },
      { name: '64 KiB buffer transferred', unit: 'µs/call', better: 'lower', measure: (s) => sequentialMicros(seq / 4, () => s.echoTransfer(new ArrayBuffer(65_536))) },
      { name: '1 MiB buffer copied', unit: 'µs/call', better: 'lower', measure: (s) => sequentialMicros(seq / 50, () => s.echo(new ArrayBuffer(1_048_576))) },
      { name: '2 000-record array copied', unit: 'µs/call', better: 'lower', measure: (s) => sequentialMicros(seq / 100, () => s.echo(records)) },
      { name: '5 000-entry Map copied', unit: 'µs/call', better: 'lower', measure: (s) => sequentialMicros(seq / 100, () => s.echo(entries)) },
    ];
    for (const c of cases) {
      const figures = subjects.map((): number[] => []);
      for (let run = 0; run < runs; run++) {
        for (let k = 0; k < subjects.length; k++) {
          const i = (run + k) % subjects.length;
          figures[i]!.push(await c.measure(subjects[i]!));
        }
      }
      subjects.forEach((s, i) => rows.push({ case: c.name, subject: s.name, value: median(figures[i]!), unit: c.unit, better: c.better }));
    }
    // Small calls again, right after the large values: optimised code that met only small
    // messages meets new shapes there (the first moved buffer, arrays as structured clone makes
    // them), and what V8 throws away is paid for here. One run per subject, as the cold row.
    for (const s of subjects) {
      rows.push({ case: `sequential small call, first ${cold} calls after the large values (one run)`, subject: s.name, value: await coldMicros(cold, () => s.sum(1, 2)), unit: 'µs/call', better: 'lower' });
    }
  } finally {
    await closeAll(subjects);
  }
  return rows;
}
