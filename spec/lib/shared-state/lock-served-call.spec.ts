import { expect } from 'chai';
import { CallCanceledError, SharedMutex, callOptions, named, release, type Remote } from '../../../lib/index.js';
import { DEAD_CHECK_MS } from '../../../lib/shared-state/shared-mutex.js';
import type { NamedLockUser, Refusal } from '../../fixtures/named-lock-user.js';
import type { Racer } from '../../fixtures/shared-state-classes.js';
import { HANG_GUARD_MS, processApartment } from '../../fixtures/process-fixture.js';
import { reportedWait } from '../../fixtures/reported-wait.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';

// A worker apartment takes the named mutex in shared memory (SharedMutex), a process apartment
// through the main apartment (RemoteMutex): either way the wait is the served call's.
describe('lib/shared-state: a named lock an apartment waits for while it serves a call', () => {
  for (const where of ['worker', 'process'] as const) {
    it(`is given up in a ${where} apartment when that call is cancelled, with no signal or time limit of its own, and the lock is not taken by it`, async () => {
      const { rt } = await startRuntime();
      rt.registerClass('NamedLockUser', { module: fixture('named-lock-user.js'), export: 'NamedLockUser' });
      const apt = where === 'worker' ? await rt.createApartment({ name: 'locker' }) : (await processApartment(rt, { process: 'locker' })).apt;
      const user = await apt.createObject<Remote<NamedLockUser>>('NamedLockUser');
      await user.open();
      const lock = await named.mutex('stats-lock');
      const held = await lock.value.lock();
      const wait = reportedWait<Refusal | 'locked'>();
      const cancel = new AbortController();
      const served = user.lockForServedCall(wait.onStarted, wait.onEnded, callOptions({ signal: cancel.signal })).catch((e: unknown) => e);
      await wait.started;
      cancel.abort();
      expect(await served).to.be.instanceOf(CallCanceledError);
      // Before: the wait went on after its call was cancelled, until the lock came free.
      const outcome = await wait.ended();
      expect(outcome).to.not.equal('locked');
      expect((outcome as Refusal).name).to.equal('CallCanceledError');
      expect((outcome as Refusal).message).to.match(/^\[lock-canceled\] waiting for 'stats-lock' was cancelled/);
      held.unlock();
      // The cancelled waiter's turn is passed over (a process's given-up wait is dropped by a message
      // that may still be on its way): the host takes the lock again.
      using _again = await lock.value.lock({ timeoutMs: HANG_GUARD_MS });
      await user.close();
      await lock.close();
      release(user);
    });
  }
});

// A contended lock() in a served call woke every 50 ms to look whether its call had ended. The wait
// now sleeps on the mutex's memory until the unlock's notify (or the served call's end, or the
// check for an owner that died, every DEAD_CHECK_MS): a waiter held for a while wakes a handful of
// times, not dozens.
describe('lib/shared-state: a contended SharedMutex.lock() in a served call', () => {
  it('waits for the unlock without polling: it wakes no more often than its check for a dead owner', async () => {
    const { rt } = await startRuntime();
    rt.registerClass('Racer', { module: fixture('shared-state-classes.js'), export: 'Racer' });
    const racer = await (await rt.createApartment({ name: 'waiter' })).createObject<Remote<Racer>>('Racer');
    const mutex = new SharedMutex({ name: 'contended' });
    const held = await mutex.lock();
    let started!: () => void;
    const asked = new Promise<void>((resolve) => (started = resolve));
    const waiting = racer.lockCountingWaits(mutex, () => started());
    await asked;
    // The contention lasts a while, so that polling would show; the bound below scales with how long it really lasted.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    held.unlock();
    const { waits, elapsedMs } = await waiting;
    expect(waits, 'it waited on the mutex').to.be.at.least(1);
    expect(waits, `waits in ${Math.round(elapsedMs)} ms`).to.be.at.most(2 + Math.floor(elapsedMs / DEAD_CHECK_MS));
    release(racer);
  });
});
