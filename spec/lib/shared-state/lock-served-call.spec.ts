import { expect } from 'chai';
import { CallCanceledError, callOptions, named, release, type Remote } from '../../../lib/index.js';
import type { NamedLockUser, Refusal } from '../../fixtures/named-lock-user.js';
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
