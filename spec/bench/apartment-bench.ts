// Apartment-level cases: callbacks, spreading calls, start-up, memory, CPU per call, many busy
// apartments on few cores, and the same-apartment path. Port and shared-memory runtimes side by
// side where the transport matters, after a raw postMessage (or comlink) baseline where one exists;
// cases without one compare to their first row, which the printed ratio names.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { release } from '../../lib/index.js';
import { comlinkCallback, rawCallback, rawPeers } from './apartment-baselines.js';
import { benchBusyApartments } from './busy-apartments-bench.js';
import type { BenchRow } from './call-path-bench.js';
import type { Adder } from './fixtures/adder.js';
import { median, medianOf, pipelinedRate, sequentialMicros } from './harness.js';
import { rawPostMessage, startAdderRuntime } from './subjects.js';

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** The same method on an ordinary class, never registered: the baseline of the same-apartment path. */
class PlainAdder {
  sum(a: number, b: number): number {
    return a + b;
  }
}

/** Run the apartment cases. */
export async function benchApartments(options: { quick: boolean }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const runs = options.quick ? 3 : 5;
  const n = options.quick ? 1_000 : 3_000;
  const back = async (x: number): Promise<number> => x + 1;
  const add = (c: string, subject: string, value: number, unit: string, better: 'higher' | 'lower'): void => {
    rows.push({ case: c, subject, value, unit, better });
  };
  const CALLBACK = 'callback round trip (host → A → host), one callback reused';
  const FRESH_CALLBACK = 'callback round trip, callback passed with every call (marshaled each call)';
  const PEER = 'apartment to apartment call (A → B), sequential';
  const CPU_PIPE = 'process CPU per pipelined call (256 in flight), all threads';
  const CPU_SEQ = 'process CPU per sequential call, all threads';

  // Baselines first, so each case's ratio is to raw postMessage.
  for (const startBaseline of [rawCallback, comlinkCallback]) {
    const b = await startBaseline(back);
    try {
      add(CALLBACK, b.name, await medianOf(runs, () => sequentialMicros(n, () => b.call(1))), 'µs/call', 'lower');
    } finally {
      await b.close();
    }
  }
  const peers = await rawPeers();
  try {
    await peers.run(n);
    add(PEER, 'raw postMessage (MessageChannel between 2 workers)', await medianOf(runs, async () => {
      const t0 = performance.now();
      await peers.run(n);
      return ((performance.now() - t0) * 1000) / n;
    }), 'µs/call', 'lower');
  } finally {
    await peers.close();
  }
  const raw = await rawPostMessage();
  try {
    await pipelinedRate(n * 20, 256, () => raw.sum(1, 2));
    add(CPU_PIPE, raw.name, await cpuPerCall(n * 20, () => pipelinedRate(n * 20, 256, () => raw.sum(1, 2))), 'µs/call', 'lower');
    add(CPU_SEQ, raw.name, await cpuPerCall(n, () => oneAfterAnother(n, () => raw.sum(1, 2))), 'µs/call', 'lower');
  } finally {
    await raw.close();
  }

  for (const transport of ['port', 'shared-memory'] as const) {
    const subject = `runtime (${transport === 'port' ? 'port channel' : 'shared memory'})`;
    const row = (c: string, value: number, unit: string, better: 'higher' | 'lower'): void => add(c, subject, value, unit, better);
    const rt = await startAdderRuntime(transport);
    try {
      const a = await rt.createApartment({ name: 'a' });
      const b = await rt.createApartment({ name: 'b' });
      const adderA = await a.createObject<Adder>('Adder');
      const adderB = await b.createObject<Adder>('Adder');

      await adderA.setCallback(back);
      row(CALLBACK, await medianOf(runs, () => sequentialMicros(n, () => adderA.callStored(1))), 'µs/call', 'lower');
      row(FRESH_CALLBACK, await medianOf(runs, () => sequentialMicros(n, () => adderA.callBack(back, 1))), 'µs/call', 'lower');
      await adderA.viaPeer(adderB, n);
      row(PEER, await medianOf(runs, async () => {
        const t0 = performance.now();
        await adderA.viaPeer(adderB, n);
        return ((performance.now() - t0) * 1000) / n;
      }), 'µs/call', 'lower');
      const both = [adderA, adderB];
      let i = 0;
      row('calls spread over 2 apartments, 256 in flight', await medianOf(runs, () => pipelinedRate(n * 40, 256, () => both[i++ & 1]!.sum(1, 2))), 'calls/s', 'higher');

      // process.cpuUsage() counts every thread of the process: host, apartments and any spinning.
      row(CPU_PIPE, await cpuPerCall(n * 20, () => pipelinedRate(n * 20, 256, () => adderA.sum(1, 2))), 'µs/call', 'lower');
      row(CPU_SEQ, await cpuPerCall(n, () => oneAfterAnother(n, () => adderA.sum(1, 2))), 'µs/call', 'lower');

      const many = options.quick ? 200_000 : 1_000_000;
      const label = options.quick ? '200k' : '1M';
      gc();
      const before = process.memoryUsage().heapUsed;
      const aptBefore = await adderA.heapUsed();
      await pipelinedRate(many, 256, () => adderA.sum(1, 2));
      const aptAfter = await adderA.heapUsed();
      gc();
      row(`host heap growth after ${label} calls`, (process.memoryUsage().heapUsed - before) / 1024, 'KiB', 'lower');
      row(`apartment heap growth after ${label} calls`, (aptAfter - aptBefore) / 1024, 'KiB', 'lower');

      const count = options.quick ? 20_000 : 100_000;
      const heapA0 = await adderA.heapUsed();
      gc();
      const host0 = process.memoryUsage().heapUsed;
      const tokens = (await adderA.tokens(count)) as unknown as object[];
      const heapA1 = await adderA.heapUsed();
      gc();
      const host1 = process.memoryUsage().heapUsed;
      row(`memory per exported object (${count / 1000}k)`, (heapA1 - heapA0) / count, 'bytes', 'lower');
      row(`memory per live proxy (${count / 1000}k)`, (host1 - host0) / count, 'bytes', 'lower');
      for (const t of tokens) release(t);
      await adderA.drop();
    } finally {
      await rt.close();
    }
  }
  rows.push(...(await apartmentCosts(options)));
  rows.push(...(await benchBusyApartments(options)));
  return rows;
}

/** A bare Worker, once it said it is ready (workers/bare-ready.ts). */
async function bareWorker(): Promise<Worker> {
  const worker = new Worker(new URL('./workers/bare-ready.js', import.meta.url));
  await once(worker, 'message');
  return worker;
}

/** Resident memory (MiB) each of 8 threads `start` starts adds while idle; the threads end after. */
async function residentPerThread(start: () => Promise<() => Promise<unknown>>): Promise<number> {
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100));
  gc();
  await settle();
  const rss0 = process.memoryUsage().rss;
  const stop = await start();
  await settle();
  gc();
  const perThread = (process.memoryUsage().rss - rss0) / 8 / 1024 / 1024;
  await stop();
  await settle();
  return perThread;
}

async function oneAfterAnother(calls: number, call: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < calls; i++) await call();
}

/** CPU time of the whole process (all threads) per call while `calls` calls run. */
async function cpuPerCall(calls: number, body: () => Promise<unknown>): Promise<number> {
  const cpu0 = process.cpuUsage();
  await body();
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / calls;
}

/** Start-up, pool checkout, idle memory, the same-apartment path and many busy apartments. */
async function apartmentCosts(options: { quick: boolean }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const rt = await startAdderRuntime('shared-memory');
  try {
    // Against a bare Worker to its first message, in interleaved rounds: what an apartment's start
    // adds to the thread's own (the runtime's modules, the boot record, the Ready handshake).
    const COLD = 'cold start, until the thread answers';
    const bareCold: number[] = [];
    const cold: number[] = [];
    for (let i = 0; i < (options.quick ? 3 : 8); i++) {
      let t0 = performance.now();
      const bare = await bareWorker();
      bareCold.push((performance.now() - t0) * 1000);
      await bare.terminate();
      t0 = performance.now();
      const apt = await rt.createApartment();
      cold.push((performance.now() - t0) * 1000);
      await apt.close();
    }
    rows.push({ case: COLD, subject: 'bare Worker, to its first message', value: median(bareCold), unit: 'µs', better: 'lower' });
    rows.push({ case: COLD, subject: 'runtime: createApartment (shared memory)', value: median(cold), unit: 'µs', better: 'lower' });
    const pool = rt.createPool({ size: 2 });
    await pool.warm();
    const warm: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      const lease = await pool.checkout();
      warm.push((performance.now() - t0) * 1000);
      await lease.checkin();
    }
    rows.push({ case: 'get an apartment from a warm pool', subject: 'pool checkout', value: median(warm), unit: 'µs', better: 'lower' });
    await pool.close();

    // An idle runtime must not spin: CPU time of the whole process over one idle second.
    const idleApts = await Promise.all(Array.from({ length: 4 }, () => rt.createApartment()));
    const idleAdders = await Promise.all(idleApts.map((a) => a.createObject<Adder>('Adder')));
    await Promise.all(idleAdders.map((a) => a.sum(1, 2)));
    await new Promise((r) => setTimeout(r, 200));
    const idle0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 1_000));
    const idleCpu = process.cpuUsage(idle0);
    rows.push({ case: 'CPU time of an idle runtime (4 apartments, 1 s)', subject: 'runtime (shared memory)', value: (idleCpu.user + idleCpu.system) / 1000, unit: 'ms', better: 'lower' });
    await Promise.all(idleApts.map((a) => a.close()));

    const IDLE = 'memory per idle thread (RSS, 8 threads)';
    const workers = await residentPerThread(async () => {
      const all = await Promise.all(Array.from({ length: 8 }, () => bareWorker()));
      return () => Promise.all(all.map((w) => w.terminate()));
    });
    rows.push({ case: IDLE, subject: 'bare Worker', value: workers, unit: 'MiB', better: 'lower' });
    const apartments = await residentPerThread(async () => {
      const all = await Promise.all(Array.from({ length: 8 }, () => rt.createApartment()));
      return () => Promise.all(all.map((a) => a.close()));
    });
    rows.push({ case: IDLE, subject: 'runtime: idle apartment', value: apartments, unit: 'MiB', better: 'lower' });

    const local = await rt.createInstance<Adder>('Adder');
    const plain = new PlainAdder();
    // One loop per subject: a shared timing helper would make its call site polymorphic and
    // charge whichever subject runs second for it.
    const iterations = 2_000_000;
    const perCall = (t0: number, sink: number): number => {
      if (sink < 0) throw new Error('unreachable');
      return ((performance.now() - t0) * 1e6) / iterations;
    };
    const timePlain = (): number => {
      let s = 0;
      const t0 = performance.now();
      for (let i = 0; i < iterations; i++) s += plain.sum(i, 1);
      return perCall(t0, s);
    };
    const timeLocal = (): number => {
      let s = 0;
      const t0 = performance.now();
      for (let i = 0; i < iterations; i++) s += local.sum(i, 1);
      return perCall(t0, s);
    };
    rows.push({ case: 'same-apartment call', subject: 'plain method call', value: median([1, 2, 3].map(timePlain)), unit: 'ns/call', better: 'lower' });
    rows.push({ case: 'same-apartment call', subject: 'runtime object, same apartment', value: median([1, 2, 3].map(timeLocal)), unit: 'ns/call', better: 'lower' });

    const freeModule = new URL('./fixtures/free-adder.js', import.meta.url);
    rt.registerClass('FreeAdder', { module: freeModule, export: 'FreeAdder' });
    rt.registerClass('AgileAdder', { module: freeModule, export: 'AgileAdder' });
    const agile = (await rt.createObject('AgileAdder')) as unknown as PlainAdder;
    // Baseline: an instance of the same class made here with `new`, never marshaled.
    const same = new (agile.constructor as new () => PlainAdder)();
    const timeSame = (): number => {
      let s = 0;
      const t0 = performance.now();
      for (let i = 0; i < iterations; i++) s += same.sum(i, 1);
      return perCall(t0, s);
    };
    const timeAgile = (): number => {
      let s = 0;
      const t0 = performance.now();
      for (let i = 0; i < iterations; i++) s += agile.sum(i, 1);
      return perCall(t0, s);
    };
    rows.push({ case: 'agile direct call (free-threaded marshaler)', subject: 'plain call, same class', value: median([1, 2, 3].map(timeSame)), unit: 'ns/call', better: 'lower' });
    rows.push({ case: 'agile direct call (free-threaded marshaler)', subject: 'agile view', value: median([1, 2, 3].map(timeAgile)), unit: 'ns/call', better: 'lower' });
    const aptAdder = await (await rt.createApartment()).createObject<Adder>('Adder');
    const freeAdder = await rt.createObject<Adder>('FreeAdder');
    const calls = options.quick ? 1_000 : 3_000;
    rows.push({ case: 'free-pool call vs apartment call', subject: 'apartment object', value: await medianOf(3, () => sequentialMicros(calls, () => aptAdder.sum(1, 2))), unit: 'µs/call', better: 'lower' });
    rows.push({ case: 'free-pool call vs apartment call', subject: 'free object (pool handle)', value: await medianOf(3, () => sequentialMicros(calls, () => freeAdder.sum(1, 2))), unit: 'µs/call', better: 'lower' });
    rows.push({ case: 'free-pool call vs apartment call, 256 in flight', subject: 'apartment object', value: await medianOf(3, () => pipelinedRate(calls * 20, 256, () => aptAdder.sum(1, 2))), unit: 'calls/s', better: 'higher' });
    rows.push({ case: 'free-pool call vs apartment call, 256 in flight', subject: 'free object (pool handle)', value: await medianOf(3, () => pipelinedRate(calls * 20, 256, () => freeAdder.sum(1, 2))), unit: 'calls/s', better: 'higher' });
  } finally {
    await rt.close();
  }
  return rows;
}
