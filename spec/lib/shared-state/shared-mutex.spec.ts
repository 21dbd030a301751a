import { expect } from 'chai';
import {
  ApartmentError, CallCanceledError, CallTimeoutError, InvalidArgumentError, SharedMutex, type Apartment, type Runtime,
  type Remote,
} from '../../../lib/index.js';
import type { PoolLocker, Racer } from '../../fixtures/shared-state-classes.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';
import { expectUnknownOption, refusal } from '../../fixtures/option-refusals.js';
import { PolyfillAbortController } from '../../fixtures/polyfill-signal.js';
import { startRacers } from './racers.js';

async function racers(n: number): Promise<Remote<Racer>[]> {
  return (await startRacers(n)).racers;
}

describe('lib/shared-state: SharedMutex across apartments', () => {
  it('loses no update when 4 apartments read-modify-write under it (async lock)', async () => {
    const rs = await racers(4);
    const mutex = new SharedMutex({ name: 'cell' });
    const cell = new SharedArrayBuffer(4);
    await Promise.all(rs.map((r) => r.hammer(mutex, cell, 50)));
    expect(new Int32Array(cell)[0]).to.equal(200);
  });

  it('loses no update with lockSync in worker apartments', async () => {
    const rs = await racers(3);
    const mutex = new SharedMutex({ name: 'cell' });
    const cell = new SharedArrayBuffer(4);
    await Promise.all(rs.map((r) => r.hammerSync(mutex, cell, 300)));
    expect(new Int32Array(cell)[0]).to.equal(900);
  });

  it('serves waiters in arrival order: no apartment starves', async () => {
    const rs = await racers(4);
    const mutex = new SharedMutex({ name: 'fair' });
    const rounds = 30;
    const log = new SharedArrayBuffer(4);
    const worst = await Promise.all(rs.map((r) => r.takeTurns(mutex, log, rounds)));
    expect(new Int32Array(log)[0]).to.equal(rs.length * rounds);
    // FIFO tickets: once a racer holds a ticket, at most the other racers' tickets are ahead of it.
    for (const w of worst) expect(w).to.be.at.most(rs.length - 1);
  });

  it('times out, cancels, and tries without waiting', async () => {
    await startRuntime();
    const mutex = new SharedMutex({ name: 'held' });
    const guard = await mutex.lock();
    expect(mutex.tryLock()).to.equal(undefined);
    expect(await mutex.lock({ timeoutMs: 20 }).catch((e: unknown) => e)).to.be.instanceOf(CallTimeoutError);
    const ac = new AbortController();
    const waiting = mutex.lock({ signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    expect(await waiting).to.be.instanceOf(CallCanceledError);
    guard.unlock();
    const next = mutex.tryLock();
    expect(next, 'abandoned tickets are skipped').to.not.equal(undefined);
    next!.unlock();
  });

  it('refuses lockSync on the main thread unless allowed, and a double unlock', async () => {
    await startRuntime();
    const mutex = new SharedMutex({ name: 'main' });
    expect(() => mutex.lockSync()).to.throw(ApartmentError, /lock-sync-main/);
    const g = mutex.lockSync({ allowOnMainThread: true });
    g.unlock();
    expect(() => g.unlock()).to.throw(ApartmentError, /unlock-twice/);
  });
});

describe('lib/shared-state: SharedMutex on free-pool threads', () => {
  it('loses no update when calls on both pool threads and a worker apartment read-modify-write under it', async () => {
    const { rt } = await startRuntime({ freePoolSize: 2 });
    rt.registerClass('PoolLocker', { module: fixture('shared-state-classes.js'), export: 'PoolLocker' });
    const pool = await rt.createObject<Remote<PoolLocker>>('PoolLocker');
    rt.registerClass('Racer', { module: fixture('shared-state-classes.js'), export: 'Racer' });
    const racer = await (await rt.createApartment()).createObject<Remote<Racer>>('Racer');
    const mutex = new SharedMutex({ name: 'pool-cell' });
    const cell = new SharedArrayBuffer(4);
    const [ran] = await Promise.all([
      Promise.all(Array.from({ length: 4 }, () => pool.hammer(mutex, cell, 25))),
      racer.hammer(mutex, cell, 25),
    ]);
    expect(ran.map((r) => r.kind)).to.deep.equal(['pool', 'pool', 'pool', 'pool']);
    expect(new Set(ran.map((r) => r.thread)).size).to.equal(2);
    expect(new Int32Array(cell)[0]).to.equal(5 * 25);
  });
});

describe('lib/shared-state: lock options that cannot be followed', () => {
  it('are refused with InvalidArgumentError before a ticket is taken, and the mutex goes on as before', async () => {
    const mutex = new SharedMutex({ name: 'checked' });
    // Before: a NaN limit waited without end, and a signal that was no AbortSignal threw a TypeError.
    const bad: [object, string][] = [[{ timeoutMs: NaN }, 'timeoutMs'], [{ timeoutMs: -1 }, 'timeoutMs'], [{ timeoutMs: '5' }, 'timeoutMs'], [{ signal: {} }, 'signal']];
    for (const [options, parameter] of bad) {
      const err = await mutex.lock(options as never).catch((e: unknown) => e);
      expect(err, JSON.stringify(options)).to.be.instanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).parameter).to.equal(parameter);
      expect(() => mutex.lockSync({ ...(options as object), allowOnMainThread: true } as never), JSON.stringify(options)).to.throw(InvalidArgumentError, /^\[lock-options\]/);
    }
    const held = await mutex.lock({ timeoutMs: Infinity });
    const timedOut = await mutex.lock({ timeoutMs: 0 }).catch((e: unknown) => e);
    expect(timedOut, 'a limit of 0 tries once').to.be.instanceOf(CallTimeoutError);
    held.unlock();
    (await mutex.lock({ timeoutMs: 1_000 })).unlock();
  });

  it('refuse a signal for lockSync(), which blocks its thread where no abort reaches it, before a ticket is taken', () => {
    const mutex = new SharedMutex({ name: 'sync-signal' });
    // Before: the signal was taken and never looked at: even an aborted one took the lock.
    const aborted = AbortSignal.abort();
    expect(() => mutex.lockSync({ signal: aborted, allowOnMainThread: true })).to.throw(InvalidArgumentError, /^\[lock-sync-signal\] lockSync\('sync-signal'\) blocks its thread/);
    const guard = mutex.lockSync({ allowOnMainThread: true, timeoutMs: 1_000 });
    guard.unlock();
  });

  it('refuse a misspelt key of lock(), lockSync(), new SharedMutex() and named.mutex(), naming the one meant', async () => {
    const { rt } = await startRuntime();
    const mutex = new SharedMutex({ name: 'spelt' });
    // Before: a misspelt limit waited without end, and a misspelt allowOnMainThread read as its absence.
    expectUnknownOption(await refusal(() => mutex.lock({ timeout: 5 } as never)), 'timeout', "lock('spelt')", 'timeoutMs');
    expectUnknownOption(await refusal(() => mutex.lockSync({ allowOnMainthread: true } as never)), 'allowOnMainthread', "lock('spelt')", 'allowOnMainThread');
    expectUnknownOption(await refusal(() => new SharedMutex({ levle: 1 } as never)), 'levle', 'new SharedMutex()', 'level');
    // Its name is the first argument: one in the options was ignored.
    expectUnknownOption(await refusal(() => rt.named.mutex('spelt-named', { name: 'other' } as never)), 'name', 'named.mutex(name, options)', undefined);
    expect(rt.isNamedOpen('spelt-named'), 'nothing was opened').to.equal(false);
    mutex.tryLock()!.unlock();
  });

  it('follow a polyfill\'s abort signal as Node does: a wait it aborts ends with CallCanceledError and its reason', async () => {
    const mutex = new SharedMutex({ name: 'polyfilled' });
    const held = await mutex.lock();
    const controller = new PolyfillAbortController();
    // Before: refused with [lock-options] signal must be an AbortSignal.
    const waiting = mutex.lock({ signal: controller.signal as unknown as AbortSignal }).catch((e: unknown) => e);
    controller.abort('gave up');
    const err = await waiting;
    expect(err).to.be.instanceOf(CallCanceledError);
    expect((err as Error).cause).to.equal('gave up');
    held.unlock();
    (await mutex.lock({ signal: new PolyfillAbortController().signal as unknown as AbortSignal })).unlock();
  });

  it('refuses options that are not an object, for a new mutex and a named one, with InvalidArgumentError', async () => {
    const { rt } = await startRuntime();
    // Before: a TypeError reading level.
    expect(() => new SharedMutex(null as never)).to.throw(InvalidArgumentError, /^\[mutex-options\] new SharedMutex\(\) takes an options object/);
    const named = await rt.named.mutex('checked-named', null as never).catch((e: unknown) => e);
    expect(named).to.be.instanceOf(InvalidArgumentError);
    expect((named as Error).message).to.match(/^\[mutex-options\]/);
    expect(rt.isNamedOpen('checked-named'), 'nothing was opened').to.equal(false);
    const handle = await rt.named.mutex('checked-named');
    handle.value.tryLock()!.unlock();
    await handle.close();
  });

  it('refuses a name that is not a bounded string, also in a handle, with InvalidArgumentError', () => {
    // Before: a number or an object was kept as the name, and every message about the mutex showed it.
    for (const name of [5, '', 'm'.repeat(1_025), Object.create(null)]) {
      expect(() => new SharedMutex({ name } as never), typeof name).to.throw(InvalidArgumentError, /^\[mutex-name\]/);
      const { sab } = new SharedMutex().handle;
      expect(() => SharedMutex.fromHandle({ sab, name } as never), typeof name).to.throw(InvalidArgumentError, /^\[mutex-name\]/);
    }
    expect(new SharedMutex({ name: 'accounts' }).name).to.equal('accounts');
  });
});

describe('lib/shared-state: SharedMutex past 2^31 locks', () => {
  it('goes on locking, waiting, timing out and passing the lock on when its int32 tickets wrap', async () => {
    // A mutex that has been taken 2^31 - 3 times: its next ticket and the one served, both int32.
    const sab = new SharedArrayBuffer(new SharedMutex().handle.sab.byteLength);
    const cells = new Int32Array(sab);
    cells[0] = cells[1] = 2 ** 31 - 3;
    const mutex = SharedMutex.fromHandle({ sab, name: 'old', level: undefined });
    const order: number[] = [];
    for (let round = 0; round < 3; round++) {
      const held = await mutex.lock();
      // One waiter gives up (its ticket is skipped), one waits and gets the lock next.
      const givesUp = mutex.lock({ timeoutMs: 1 }).then(() => 'granted', (err: unknown) => (err as Error).constructor.name);
      expect(await givesUp).to.equal('CallTimeoutError');
      const next = mutex.lock().then((guard) => {
        order.push(round);
        guard.unlock();
      });
      held.unlock();
      await next;
    }
    expect(order, 'every waiter got its turn across the wrap').to.deep.equal([0, 1, 2]);
    expect(cells[1], 'the tickets wrapped').to.be.lessThan(0);
    (await mutex.lock()).unlock();
  });
});

describe('lib/shared-state: a SharedMutex that refuses a waiter past its limit keeps passing the lock on', () => {
  it('serves the next waiter after a refusal whose slot a waiter that then gives up shares', async () => {
    const mutex = new SharedMutex({ name: 'crowded' });
    const held = mutex.tryLock()!;
    const quitting = new AbortController();
    const quitter = mutex.lock({ signal: quitting.signal }).then(() => 'granted', (err: unknown) => (err as Error).constructor.name);
    // The rest of the 1024 places are taken by waiters that give up at once (their tickets wait to be skipped).
    const gaveUp = await Promise.all(Array.from({ length: 1022 }, () => mutex.lock({ timeoutMs: 1 }).then(() => 'granted', (err: unknown) => (err as Error).constructor.name)));
    expect(new Set(gaveUp)).to.deep.equal(new Set([CallTimeoutError.name]));
    // Two more are refused; the second one's place in the ring is the quitter's.
    for (let i = 0; i < 2; i++) {
      const refused = await mutex.lock().then(() => 'granted', (err: unknown) => (err as Error).message);
      expect(refused).to.match(/^\[mutex-full\]/);
    }
    quitting.abort();
    expect(await quitter).to.equal(CallCanceledError.name);
    held.unlock();
    // Before: the refused waiter's mark was overwritten by the quitter's, the turn stopped at its ticket, and nobody was served again.
    const next = await mutex.lock({ timeoutMs: 10_000 }).then((guard) => (guard.unlock(), 'granted'), (err: unknown) => (err as Error).constructor.name);
    expect(next).to.equal('granted');
  });
});

describe('lib/shared-state: a SharedMutex whose holder or waiter dies', () => {
  /** Two worker apartments with a Racer each. */
  async function twoRacers(): Promise<{ rt: Runtime; a: Apartment; racerA: Remote<Racer>; racerB: Remote<Racer> }> {
    const { rt } = await startRuntime();
    rt.registerClass('Racer', { module: fixture('shared-state-classes.js'), export: 'Racer' });
    const a = await rt.createApartment({ name: 'dies' });
    const b = await rt.createApartment({ name: 'waits' });
    return { rt, a, racerA: await a.createObject<Racer>('Racer'), racerB: await b.createObject<Racer>('Racer') };
  }

  it('passes the lock on when the apartment holding it is ended, as an abandoned Windows mutex is', async () => {
    const { a, racerA, racerB } = await twoRacers();
    const mutex = new SharedMutex({ name: 'abandoned' });
    expect(await racerA.holdLock(mutex)).to.equal('held');
    const waiting = racerB.lockWithin(mutex, 30_000);
    await a.terminate();
    // Before: nothing ever passed the dead thread's turn on, and the wait ran out its 30 s.
    expect(await waiting).to.equal('granted');
    (await mutex.lock()).unlock();
  });

  it('passes the lock on to a free-pool thread waiting when the holder is ended', async () => {
    const { rt } = await startRuntime({ freePoolSize: 1 });
    rt.registerClass('Racer', { module: fixture('shared-state-classes.js'), export: 'Racer' });
    rt.registerClass('PoolLocker', { module: fixture('shared-state-classes.js'), export: 'PoolLocker' });
    const a = await rt.createApartment({ name: 'dies' });
    const racerA = await a.createObject<Racer>('Racer');
    const pool = await rt.createObject<Remote<PoolLocker>>('PoolLocker');
    const mutex = new SharedMutex({ name: 'abandoned-to-pool' });
    expect(await racerA.holdLock(mutex)).to.equal('held');
    const waiting = pool.lockWithin(mutex, 30_000);
    await a.terminate();
    expect(await waiting).to.equal('granted');
    (await mutex.lock()).unlock();
  });

  it('skips the turn of an apartment ended while it waited', async () => {
    const { a, racerA, racerB } = await twoRacers();
    const mutex = new SharedMutex({ name: 'skipped' });
    const held = await mutex.lock();
    let taken!: () => void;
    const inQueue = new Promise<void>((resolve) => (taken = resolve));
    void racerA.waitForLock(mutex, () => taken()).catch(() => undefined);
    await inQueue;
    await a.terminate();
    const waiting = racerB.lockWithin(mutex, 30_000);
    held.unlock();
    expect(await waiting).to.equal('granted');
    (await mutex.lock()).unlock();
  });
});
