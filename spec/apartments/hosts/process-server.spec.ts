import { expect } from 'chai';
import { ApartmentFaultedError, byRef, CallTimeoutError, release, type Apartment, type Remote, type Runtime } from '../../../lib/index.js';
import type { Crasher } from '../../fixtures/crasher.js';
import type { Counter, ProcessProbe } from '../../fixtures/process-probe.js';
import { HANG_GUARD_MS, isRunning, processApartment, rejection, startProcessRuntime, until } from '../../fixtures/process-fixture.js';

/** Where an apartment's probe runs: [pid, thread]. */
async function whereIs(probe: Remote<ProcessProbe>): Promise<[number, number]> {
  return [await probe.pid(), await probe.thread()];
}

/** The fault `apt` reports, once it does. */
function faultOf(apt: Apartment): Promise<ApartmentFaultedError> {
  return new Promise((resolve) => apt.once('fault', resolve));
}

describe('apartments/hosts/process-server: apartments naming one process server share its process', () => {
  it('runs the first on the main thread and the others on threads of their own, all serving calls, callbacks and objects both ways', async () => {
    const runtime = await startProcessRuntime();
    const { apt: first, pid } = await processApartment(runtime, { process: 'plugins' });
    const second = await runtime.createApartment({ process: 'plugins' });
    const third = await runtime.createApartment({ process: 'plugins' });
    const probes = await Promise.all([first, second, third].map((apt) => apt.createObject<ProcessProbe>('ProcessProbe')));
    const places = await Promise.all(probes.map(whereIs));
    expect(places.map(([p]) => p), 'one process').to.deep.equal([pid, pid, pid]);
    expect(places[0]![1], 'the first apartment runs on the main thread').to.equal(0);
    expect(new Set(places.map(([, t]) => t)).size, 'each on a thread of its own').to.equal(3);
    for (const apt of [second, third]) expect(apt.hostIdentity).to.equal(`process ${pid}`);

    // A relayed apartment: host callbacks and objects reach it, its objects reach the host.
    const probe = probes[1]!;
    expect(await probe.callBack((n: number) => n * 10, 4), 'a host function called from a thread of the process').to.equal(41);
    const doubler = byRef({ twice: (n: number) => n * 2 });
    expect(await probe.useObject(doubler, 21)).to.equal(42);
    const counter = await probe.makeCounter() as unknown as Counter;
    expect(await counter.increment()).to.equal(1);
    expect(await probe.callBack(async (n: number) => (await counter.increment()) + n, 100), 'a callback that calls back into the thread').to.equal(103);
    release(counter);
    release(doubler);
    for (const p of probes) release(p);
    expect((await second.stats()).exports, 'the thread exports nothing once the host released its objects').to.equal(0);
  });

  it('closes apartments one by one, the main thread\'s among them, and ends the process with the last', async () => {
    const runtime = await startProcessRuntime();
    const { apt: first, pid } = await processApartment(runtime, { process: 'plugins' });
    const second = await runtime.createApartment({ process: 'plugins' });
    const third = await runtime.createApartment({ process: 'plugins' });
    const [p2, p3] = await Promise.all([second, third].map((apt) => apt.createObject<ProcessProbe>('ProcessProbe')));
    await second.close();
    expect(second.state).to.equal('closed');
    expect(await p3!.pid(), 'the others serve on').to.equal(pid);
    await first.close();
    expect(first.state).to.equal('closed');
    expect(await p3!.pid(), 'the process outlives its main thread\'s apartment while it serves another').to.equal(pid);
    expect(isRunning(pid)).to.equal(true);
    release(p2!);
    release(p3!);
    await third.close();
    await until('the process ends with its last apartment', () => !isRunning(pid));
    const { apt: fresh, pid: freshPid } = await processApartment(runtime, { process: 'plugins' });
    expect(freshPid, 'the name then starts a new process').to.not.equal(pid);
    expect(fresh.state).to.equal('ready');
  });
});

describe('apartments/hosts/process-server: an apartment its process cannot get to start', () => {
  it('fails its start at startTimeoutMs while a plugin holds the main thread that relays its boot, and the runtime serves on', async () => {
    const runtime = await startProcessRuntime();
    const { apt: first } = await processApartment(runtime, { process: 'held' });
    const probe = await first.createObject<ProcessProbe>('ProcessProbe');
    let blocking!: () => void;
    const blocked = new Promise<void>((resolve) => (blocking = resolve));
    // The first apartment runs on the process's main thread: a plugin there that never yields.
    void probe.busyAfter(() => void blocking(), HANG_GUARD_MS).catch(() => undefined);
    await blocked;
    const err = await rejection(runtime.createApartment({ process: 'held', name: 'unstarted', startTimeoutMs: 2_000 }));
    expect(err).to.be.instanceOf(ApartmentFaultedError);
    expect(err.cause).to.be.instanceOf(CallTimeoutError);
    expect((err.cause as Error).message).to.match(/^\[start-timeout\] apartment 'unstarted' \(\d+\).* did not say it is ready within 2000 ms of its start: process \d+ is stuck/);
    const other = await runtime.createApartment({ name: 'elsewhere' });
    expect(other.state, 'apartments elsewhere start as before').to.equal('ready');
  });
});

describe('apartments/hosts/process-server: faults inside a process server', () => {
  it('ends only the apartment whose thread failed, with the error in the cause', async () => {
    const runtime = await startProcessRuntime();
    const { apt: first, pid } = await processApartment(runtime, { process: 'plugins' });
    const second = await runtime.createApartment({ process: 'plugins' });
    const probe = await first.createObject<ProcessProbe>('ProcessProbe');
    const crasher = await second.createObject<Crasher>('Crasher');
    const faulted = faultOf(second);
    // Its answer is relayed by the child's main thread, which may learn of the thread's end first
    // (a busy machine, 5 ms): the call may fail with the fault too, and the fault is what is checked.
    void crasher.throwLater('thread plugin broke').catch(() => undefined);
    const err = await faulted;
    expect((err.cause as Error).message).to.match(new RegExp(`^thread \\d+ of process ${pid} exited with code 1; it failed with Error: thread plugin broke`));
    expect(second.state).to.equal('faulted');
    expect(await probe.pid(), 'the main thread\'s apartment serves on').to.equal(pid);
    const third = await runtime.createApartment({ process: 'plugins' });
    const exiting = await third.createObject<Crasher>('Crasher');
    const exited = faultOf(third);
    void exiting.exit(3).catch(() => undefined);
    expect(((await exited).cause as Error).message, 'process.exit() on a thread ends that thread').to.match(new RegExp(`^thread \\d+ of process ${pid} exited with code 3`));
    expect(await probe.pid()).to.equal(pid);
    release(probe);
  });

  it('faults every apartment of a process that dies, with the signal in each cause', async () => {
    const runtime = await startProcessRuntime();
    const { apt: first, pid } = await processApartment(runtime, { process: 'plugins' });
    const second = await runtime.createApartment({ process: 'plugins' });
    const probe = await second.createObject<ProcessProbe>('ProcessProbe');
    const inFlight = rejection(probe.hang());
    const faults = Promise.all([faultOf(first), faultOf(second)]);
    process.kill(pid, 'SIGKILL');
    for (const err of await faults) expect((err.cause as Error).message).to.match(new RegExp(`^process ${pid} was killed by SIGKILL`));
    expect(await inFlight, 'the call in flight on a thread failed with the fault').to.be.instanceOf(ApartmentFaultedError);
    await until('the host releases what the dead process held', () => runtime.stats().exports === 0);
  });
});

describe('apartments/hosts/process-server: VB6\'s three thread models inside one out-of-process server', () => {
  let runtime: Runtime;

  /** Place `count` probes with `assignment` and say where each runs. */
  async function placed(assignment: Parameters<Runtime['createObjectWith']>[0]['assignment'], count: number): Promise<[number, number][]> {
    const probes: Remote<ProcessProbe>[] = [];
    for (let i = 0; i < count; i++) probes.push(await runtime.createObjectWith<ProcessProbe>({ assignment }, 'ProcessProbe'));
    const places = await Promise.all(probes.map(whereIs));
    for (const p of probes) release(p);
    return places;
  }

  it('puts every object on one thread, round-robins over a pool of five, or gives each object a thread, all in the named process', async () => {
    runtime = await startProcessRuntime();
    const single = await placed({ policy: 'single-thread', process: 'vb6-single' }, 4);
    expect(new Set(single.map(([pid]) => pid)).size, 'single-thread: one process').to.equal(1);
    expect(new Set(single.map(([, t]) => t)).size, 'single-thread: one thread').to.equal(1);

    // The thread-assignment document's pool: five threads; object i lands on thread i mod 5.
    const pool = await placed({ policy: 'round-robin', apartments: 5, process: 'vb6-pool' }, 12);
    expect(new Set(pool.map(([pid]) => pid)).size, 'round-robin: one process').to.equal(1);
    const threads = pool.slice(0, 5).map(([, t]) => t);
    expect(new Set(threads).size, 'round-robin: five threads').to.equal(5);
    expect(pool.map(([, t]) => threads.indexOf(t)), 'object i on thread i mod 5').to.deep.equal([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]);

    const perObject = await placed({ policy: 'thread-per-object', process: 'vb6-per-object' }, 3);
    expect(new Set(perObject.map(([pid]) => pid)).size, 'thread per object: one process').to.equal(1);
    expect(new Set(perObject.map(([, t]) => t)).size, 'thread per object: a thread each').to.equal(3);
    expect(single[0]![0], 'each named server is a process of its own').to.not.equal(pool[0]![0]);
  });
});
