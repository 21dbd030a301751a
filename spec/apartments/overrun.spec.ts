import { expect } from 'chai';
import { once } from 'node:events';
import { CallTimeoutError, callOptions, type ApartmentFaultedError, type Runtime } from '../../lib/index.js';
import type { Crasher } from '../fixtures/crasher.js';
import { eventually, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime;

describe('apartments/overrun: a call its caller gave up on does not keep its object\'s turn', () => {
  it('hands the turn on after the grace period, reports the wedge in the log and in stats, and the timeout says the call had started', async () => {
    const started = await startRuntime();
    rt = started.rt;
    const apt = await rt.createApartment({ name: 'hanging' });
    const crasher = await apt.createObject<Crasher>('Crasher');
    const err = await crasher.hang(callOptions({ timeoutMs: 50 })).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CallTimeoutError);
    expect((err as CallTimeoutError).started).to.equal(true);
    expect((err as Error).message).to.match(/^\[timeout\] call 'hang'.*it had started/);
    // spin() takes the same object's turn: before, it waited behind hang() until its own deadline.
    expect(await crasher.spin(0)).to.be.a('number');
    const stats = await apt.stats();
    expect(stats.wedgedCalls).to.equal(1);
    expect(stats.runningCalls).to.equal(0);
    await eventually(() => {
      expect(started.logs.some((e) => e.message.startsWith('[wedged]') && e.message.includes("'hang'"))).to.equal(true);
    }, 60_000);
  });

  it('says a call that timed out while waiting for its turn never started, and drops it from the queue', async () => {
    ({ rt } = await startRuntime());
    // A grace period longer than the spec: the first call keeps its turn throughout.
    const apt = await rt.createApartment({ name: 'queued', callLimits: { overrunGraceMs: 600_000 } });
    const crasher = await apt.createObject<Crasher>('Crasher');
    const hanging = crasher.hang().catch((e: unknown) => e);
    const err = await crasher.spin(0, callOptions({ timeoutMs: 50 })).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CallTimeoutError);
    expect((err as CallTimeoutError).started).to.equal(false);
    expect((err as Error).message).to.contain('had not started');
    expect((await apt.stats()).queuedCalls).to.equal(0);
    await apt.terminate();
    await hanging;
  });

  it('says it cannot tell whether a call started when the callee\'s thread never answered', async () => {
    ({ rt } = await startRuntime());
    const crasher = await (await rt.createApartment({ name: 'spinning' })).createObject<Crasher>('Crasher');
    const flag = new Int32Array(new SharedArrayBuffer(8));
    const spinning = crasher.spinUntil(flag);
    await eventually(() => {
      expect(Atomics.load(flag, 1)).to.equal(1);
    }, 60_000);
    const err = await crasher.ping(callOptions({ timeoutMs: 50 })).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CallTimeoutError);
    expect((err as CallTimeoutError).started).to.equal(undefined);
    expect((err as Error).message).to.contain('did not say whether it had started');
    Atomics.store(flag, 0, 1);
    await spinning;
    expect(await crasher.ping()).to.equal('pong');
  });

  it('faults the apartment instead when its callLimits say onOverrun: \'fault\'', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ name: 'strict', callLimits: { overrunGraceMs: 0, onOverrun: 'fault' } });
    const crasher = await apt.createObject<Crasher>('Crasher');
    const faulted = once(rt, 'apartment-faulted');
    const err = await crasher.hang(callOptions({ timeoutMs: 50 })).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CallTimeoutError);
    const [, fault] = (await faulted) as [unknown, ApartmentFaultedError];
    expect(String((fault.cause as Error)?.message ?? fault.message)).to.contain('[wedged]');
  });
});
