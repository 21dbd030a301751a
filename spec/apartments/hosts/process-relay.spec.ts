import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ApartmentError, callOptions, release, type Apartment, type Remote, type Runtime } from '../../../lib/index.js';
import type { Calc } from '../../fixtures/calc.js';
import type { Holder } from '../../fixtures/holder.js';
import type { HostilePlugin } from '../../fixtures/hostile-plugin.js';
import type { Counter, ProcessProbe } from '../../fixtures/process-probe.js';
import { HANG_GUARD_MS, processApartment, rejection, startProcessRuntime } from '../../fixtures/process-fixture.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';

/** An object of `apt`'s process: a Counter made by a probe there (the probe is released). */
async function counterIn(apt: Apartment): Promise<Remote<Counter>> {
  const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
  const counter = await probe.makeCounter() as unknown as Remote<Counter>;
  release(probe);
  return counter;
}

/** Wait until `apartments` and the host export nothing. */
async function exportsEmpty(runtime: Runtime, apartments: Apartment[]): Promise<void> {
  const end = Date.now() + HANG_GUARD_MS;
  for (;;) {
    const counts = await Promise.all(apartments.map(async (apt) => (await apt.stats()).exports));
    if (counts.every((n) => n === 0) && runtime.stats().exports === 0) return;
    if (Date.now() > end) throw new Error(`exports left: ${counts.join(', ')} in the apartments, ${runtime.stats().exports} in the host`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('apartments/hosts/process-relay: apartments in different processes call each other through the host', () => {
  it('lets a worker apartment call an object of a process apartment and the process call an object of the worker, identity and release intact', async () => {
    const runtime = await startProcessRuntime();
    const { apt: plugin, pid } = await processApartment(runtime, { process: 'plugins' });
    const worker = await runtime.createApartment({ name: 'worker' });
    const counter = await counterIn(plugin);
    const inWorker = await worker.createObject<Holder>('Holder');
    await inWorker.keep(counter);
    expect(await inWorker.callKept(0, 'increment'), 'the worker calls into the process').to.equal(1);
    expect(await inWorker.callKept(0, 'pid')).to.equal(pid);
    expect(await inWorker.give(0), 'the process\'s object comes back from the worker as the host\'s proxy').to.equal(counter);

    const calc = await worker.createObject<Calc>('Calc');
    const inProcess = await plugin.createObject<Holder>('Holder');
    await inProcess.keep(calc);
    await inProcess.keep(calc);
    expect(await inProcess.callKept(0, 'add', 5), 'the process calls into the worker').to.equal(5);
    expect(await inProcess.same(calc, calc), 'one proxy in the process for the worker\'s object').to.equal(true);
    expect(await inProcess.give(1)).to.equal(calc);

    await inWorker.releaseAll();
    await inProcess.releaseAll();
    for (const ref of [counter, calc, inWorker, inProcess]) release(ref);
    await exportsEmpty(runtime, [plugin, worker]);
  });

  it('keeps identity through a third process: an object of one process handed to another comes back as the same proxy', async () => {
    const runtime = await startProcessRuntime();
    const { apt: a } = await processApartment(runtime, { process: 'a' });
    const { apt: b, pid: pidB } = await processApartment(runtime, { process: 'b' });
    const counter = await counterIn(a);
    const inB = await b.createObject<Holder>('Holder');
    await inB.keep(counter);
    await inB.keep(counter);
    expect(await inB.same(counter, counter), 'one proxy in process b for the object of process a').to.equal(true);
    expect(await inB.callKept(1, 'increment'), 'process b calls process a').to.equal(1);
    expect(await inB.callKept(0, 'pid'), 'and it runs in process a').to.not.equal(pidB);
    expect(await inB.give(0), 'it comes back as the host\'s proxy').to.equal(counter);
    expect(await counter.increment(), 'one object, counted by both').to.equal(2);
    await inB.releaseAll();
    release(counter);
    release(inB);
    await exportsEmpty(runtime, [a, b]);
  });
});

describe('apartments/hosts/process-relay: a relayed link ends with either side', () => {
  it('fails the worker\'s calls into a process that died, and the worker serves on', async () => {
    const runtime = await startProcessRuntime();
    const { apt: plugin, pid } = await processApartment(runtime, { process: 'plugins' });
    const worker = await runtime.createApartment({ name: 'worker' });
    const inWorker = await worker.createObject<Holder>('Holder');
    await inWorker.keep(await counterIn(plugin));
    expect(await inWorker.callKept(0, 'increment')).to.equal(1);
    const faulted = new Promise((resolve) => plugin.once('fault', resolve));
    process.kill(pid, 'SIGKILL');
    await faulted;
    const err = await rejection(inWorker.callKept(0, 'increment'));
    expect(err, String(err)).to.be.instanceOf(ApartmentError);
    expect(await inWorker.keep('still serving')).to.equal(2);
  });
});

describe('apartments/hosts/process-relay: a process that floods a busy worker apartment', () => {
  it('loses its link to it once the bound of what waits untaken is passed, and the host holds no more; the worker serves on', async () => {
    const { rt: runtime, logs } = await startRuntime();
    const { apt: plugin } = await processApartment(runtime, { process: 'flooder' });
    const worker = await runtime.createApartment({ name: 'busy' });
    const inWorker = await worker.createObject<Holder>('Holder');
    const inProcess = await plugin.createObject<Holder>('Holder');
    await inProcess.keep(inWorker);
    expect(await inProcess.callKept(0, 'same', 1, 1), 'the relay is up').to.equal(true);
    // The worker's thread loops in a call of the host's, and takes nothing off its ports meanwhile.
    const flag = new Int32Array(new SharedArrayBuffer(8));
    const busy = inWorker.keepWhileBusy('busy', flag);
    while (Atomics.load(flag, 1) === 0) await new Promise((r) => setTimeout(r, 5));
    const rss0 = process.memoryUsage().rss;
    // 48 calls of 8 MiB each: 384 MiB, three times the bound.
    const flood = await inProcess.callKeptMany(0, 'same', 8 * 2 ** 20, 48);
    const grew = process.memoryUsage().rss - rss0;
    Atomics.store(flag, 0, 1);
    expect(await busy).to.equal(1);
    expect(flood.answered, 'the link closed with the calls on it').to.equal(0);
    expect(flood.errors).to.have.length(1);
    expect(flood.errors[0]).to.match(/^DisconnectedError: /);
    const refusal = logs.map((e) => e.message).find((m) => m.includes('[relay-backlog]'));
    expect(refusal, 'the host says why').to.match(/^\[relay\] a batch from apartment '[^']+' \(\d+\) in process 'flooder' could not go on to apartment 'busy' \(\d+\): \[relay-backlog\] the apartment has left \d+ bytes relayed to it untaken \(at most 134217728\)/);
    // What waited for the worker: the bound and one batch past it, not the 384 MiB sent.
    expect(grew, `the host's memory grew by ${grew} bytes`).to.be.below(320 * 2 ** 20);
    expect(await inWorker.same(1, 1), 'the worker serves on').to.equal(true);
    // A reference handed to the process afresh links the pair again.
    const fresh = await worker.createObject<Holder>('Holder');
    expect(await inProcess.keep(fresh), 'and so does the process').to.equal(2);
    expect(await inProcess.callKept(1, 'same', 2, 2), 'over a new relay').to.equal(true);
    for (const ref of [inWorker, inProcess, fresh]) release(ref);
  });
});

describe('apartments/hosts/process-relay: a process that floods a stopped process with bookkeeping', () => {
  it('loses its link to it once the bound of what the other left unread is passed, and the host holds no more; both serve on', async () => {
    const { rt: runtime, logs } = await startRuntime();
    runtime.registerClass('HostilePlugin', { module: fixture('hostile-plugin.js'), export: 'HostilePlugin' });
    const { apt: a } = await processApartment(runtime, { process: 'flooder' });
    // Heartbeats far apart: the process is stopped on purpose and must not be killed as hung meanwhile.
    const { apt: b, pid: pidB } = await processApartment(runtime, { process: 'stopped', heartbeat: { periodMs: 600_000, misses: 10 } });
    const plugin = await a.createObject<HostilePlugin>('HostilePlugin');
    const inB = await b.createObject<Holder>('Holder');
    expect(await plugin.linkTo(b.id), 'the relay is up').to.equal(true);
    process.kill(pidB, 'SIGSTOP');
    // What the host holds: its heap and the buffers outside it (the pipe's queued writes among
    // them). Not its resident memory, which keeps the allocator's high-water mark of the 384 MiB
    // that passed through (CI runs read 338 and 353 MiB that way). Buffers a collection found dead
    // are given back a little later, not by the collection itself (Node 24 read 40-90 MiB more
    // right after one), so this takes the least of several readings a macrotask apart: garbage
    // drops out of it, what is really held does not.
    const held = async (): Promise<number> => {
      let least = Infinity;
      for (let i = 0; i < 5; i++) {
        globalThis.gc!();
        const m = process.memoryUsage();
        least = Math.min(least, m.heapUsed + m.external);
        await new Promise((r) => setTimeout(r, 50));
      }
      return least;
    };
    const held0 = await held();
    // 48 Releases padded to 8 MiB each: 384 MiB, three times the bound, none of them a call the
    // bound would refuse. Its answer comes after them on the process's channel: the host has
    // relayed them all by then.
    expect(await plugin.releaseFlood(b.id, 48, 8 * 2 ** 20)).to.equal(true);
    const grew = (await held()) - held0;
    const refusal = logs.map((e) => e.message).find((m) => m.includes('[pipe-backlog]'));
    expect(refusal, 'the host says why').to.match(/^\[relay\] a batch from apartment '[^']+' \(\d+\) in process 'flooder' could not go on to apartment '[^']+' \(\d+\) in process 'stopped': \[pipe-backlog\] process \d+ has left \d+ bytes this side wrote unread \(at most 134217728\)/);
    // What waits for the stopped process: the bound (128 MiB) and one batch past it, not the 384
    // MiB sent (settled readings held 127.9 MiB more on Node 20, 22 and 24).
    expect(grew, `the host holds ${grew} bytes more`).to.be.below(160 * 2 ** 20);
    process.kill(pidB, 'SIGCONT');
    // Its calls are refused (retry later) until it has read what it was sent before the relay closed.
    expect(await inB.same(1, 1, callOptions({ retry: { attempts: 1_000_000, delayMs: 5 } })), 'the stopped process serves on').to.equal(true);
    expect(await plugin.linkTo(b.id), 'and so does the flooder').to.equal(true);
    for (const ref of [plugin, inB]) release(ref);
  });
});

describe('apartments/hosts/process-relay: later threads of a process server are reached through its main thread', () => {
  it('links a worker to an apartment on a later thread, and two threads of one server to each other', async () => {
    const runtime = await startProcessRuntime();
    const { pid } = await processApartment(runtime, { process: 'plugins' });
    const second = await runtime.createApartment({ process: 'plugins' });
    const third = await runtime.createApartment({ process: 'plugins' });
    const worker = await runtime.createApartment({ name: 'worker' });
    const counter = await counterIn(second);
    const inWorker = await worker.createObject<Holder>('Holder');
    await inWorker.keep(counter);
    expect(await inWorker.callKept(0, 'increment'), 'a worker calls a later thread of the process').to.equal(1);
    const inThird = await third.createObject<Holder>('Holder');
    await inThird.keep(counter);
    expect(await inThird.callKept(0, 'increment'), 'one thread of the server calls another').to.equal(2);
    expect(await inThird.callKept(0, 'pid')).to.equal(pid);
    expect(await inThird.give(0), 'identity holds').to.equal(counter);
    await inWorker.releaseAll();
    await inThird.releaseAll();
    for (const ref of [counter, inWorker, inThird]) release(ref);
    await exportsEmpty(runtime, [second, third, worker]);
  });
});

describe("apartments/hosts/process-relay: a process server's main thread relays its threads' batches whatever the host has left unread", () => {
  it("delivers every call of a thread's that the host read late, where it used to drop those past the backlog bound", async () => {
    const runtime = await startProcessRuntime();
    // Heartbeats far apart: the host blocks its own main thread below and must not be taken for gone.
    const heartbeat = { periodMs: 600_000, misses: 10 };
    await processApartment(runtime, { process: 'relayer', heartbeat });
    const onThread = await runtime.createApartment({ process: 'relayer', heartbeat });
    const probe = await onThread.createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.thread(), 'the apartment runs on a thread of the server').to.not.equal(0);
    const marker = join(tmpdir(), `relay-backlog-${process.pid}-${Date.now()}`);
    let called = 0;
    const answered = probe.callBackMany((bytes: Uint8Array) => (called++, bytes.byteLength), 8 * 2 ** 20, 24, marker);
    // The call leaves in the batch this turn flushes.
    await new Promise((resolve) => setImmediate(resolve));
    // This thread reads nothing while it loops: the 192 MiB of calls the process's thread sends
    // pile up in the process, past the 128 MiB it holds its own calls back at (on a machine so busy
    // that the process relays less than that in the 3 s, the spec checks less, and still passes).
    const guard = Date.now() + HANG_GUARD_MS;
    while (!existsSync(marker) && Date.now() < guard);
    const relaying = Date.now() + 3_000;
    while (Date.now() < relaying);
    rmSync(marker, { force: true });
    expect(await answered, 'every call was answered').to.equal(24);
    expect(called).to.equal(24);
    release(probe);
  });
});
