import { expect } from 'chai';
import { named, release, type Mutex, type Remote, type Runtime } from '../../../lib/index.js';
import type { ControlProber } from '../../fixtures/control-prober.js';
import type { NamedLockUser } from '../../fixtures/named-lock-user.js';
import { HANG_GUARD_MS, processApartment } from '../../fixtures/process-fixture.js';
import { eventually, fixture, startRuntime } from '../../fixtures/runtime-fixture.js';
import type { SegmentUser } from '../../fixtures/shared-state-classes.js';

/** A runtime with the users of the seed document's named mutex and memory registered. */
async function start(): Promise<{ rt: Runtime; logs: { level: string; message: string }[] }> {
  const started = await startRuntime();
  started.rt.registerClass('SegmentUser', { module: fixture('shared-state-classes.js'), export: 'SegmentUser' });
  started.rt.registerClass('NamedLockUser', { module: fixture('named-lock-user.js'), export: 'NamedLockUser' });
  started.rt.registerClass('ControlProber', { module: fixture('control-prober.js'), export: 'ControlProber' });
  return started;
}

/** [users, visits] as the host reads them holding the named mutex, through handles it opens and closes. */
async function hostCounts(): Promise<number[]> {
  const lock = await named.mutex('stats-lock');
  const stats = await named.memory('stats', 8);
  try {
    return await countsUnder(lock.value, stats.value);
  } finally {
    await stats.close();
    await lock.close();
  }
}

/** [users, visits] read holding `lock`. */
async function countsUnder(lock: Mutex, stats: SharedArrayBuffer): Promise<number[]> {
  using _held = await lock.lock({ timeoutMs: HANG_GUARD_MS });
  return [...new Int32Array(stats)];
}

/**
 * The process's wait on 'stats-lock', which the host holds (`held`), is cancelled by its signal
 * after `abortAfterMs`; then the host frees the lock, the process takes it, and nothing the
 * given-up waits asked for is still held: the host takes it again. Closes the user and the handle.
 */
async function cancelThenFree(user: Remote<NamedLockUser>, lock: Awaited<ReturnType<typeof named.mutex>>, held: { unlock(): void }, abortAfterMs: number): Promise<void> {
  const aborted = await user.lockAborted(abortAfterMs);
  expect(aborted?.name).to.equal('CallCanceledError');
  expect(aborted?.message).to.match(/^\[lock-canceled\] waiting for 'stats-lock' was cancelled/);
  held.unlock();
  expect(await user.read(), 'the process takes the lock once it is free').to.deep.equal([0, 0]);
  using _again = await lock.value.lock({ timeoutMs: HANG_GUARD_MS });
  await user.close();
  await lock.close();
  release(user);
}

describe('lib/shared-state: the seed document\'s named mutex and memory work across processes', () => {
  it('lets two process apartments and a worker apartment race to create them, count under the mutex, and the host read the same counts', async () => {
    const { rt } = await start();
    const left = (await processApartment(rt, { process: 'left' })).apt;
    const right = (await processApartment(rt, { process: 'right' })).apt;
    const worker = await rt.createApartment({ name: 'worker' });
    const users = await Promise.all([left, right, worker].map((apt) => apt.createObject<Remote<SegmentUser>>('SegmentUser')));
    const created = await Promise.all(users.map((user) => user.open()));
    expect(created.filter((c) => c), 'exactly one creator among the racers').to.have.length(1);
    const lock = await named.mutex('stats-lock');
    const stats = await named.memory('stats', 8);
    await Promise.all(users.flatMap((user) => [user.visit(), user.visit()]));
    expect(await countsUnder(lock.value, stats.value), '3 users, 6 visits').to.deep.equal([3, 6]);
    // Each visit reads, yields with the mutex held, then writes: a lost update shows in the total.
    const rounds = await Promise.all(users.map((user) => user.slowVisits(15)));
    expect(await countsUnder(lock.value, stats.value), 'every slow visit counted once').to.deep.equal([3, 6 + rounds.reduce((a, b) => a + b)]);
    await Promise.all(users.map((user) => user.close()));
    expect(await countsUnder(lock.value, stats.value), 'the users counted themselves out').to.deep.equal([0, 51]);
    for (const user of users) release(user);
    await stats.close();
    await lock.close();
    expect(rt.isNamedOpen('stats'), 'the last close released the memory').to.equal(false);
    expect(rt.isNamedOpen('stats-lock'), 'and the mutex').to.equal(false);
  });
});

describe('lib/shared-state: a process that initialises named memory under a named mutex', () => {
  it('gives the mutex back, and its initial contents reach the host with its publication', async () => {
    const { rt } = await start();
    const proc = (await processApartment(rt, { process: 'creator' })).apt;
    const user = await proc.createObject<Remote<NamedLockUser>>('NamedLockUser');
    await user.open();
    expect(await user.createUnderLock('fresh'), 'the process created it').to.equal(true);
    const lock = await named.mutex('stats-lock');
    const fresh = await named.memory('fresh', 8);
    // Before: the unlock carried the bytes of memory not yet published, was refused, and the mutex stayed held for good.
    const contents = await lock.value.lock({ timeoutMs: 10_000 }).then((guard) => {
      using _held = guard;
      return [...new Int32Array(fresh.value)];
    }, (err: unknown) => (err as Error).constructor.name);
    expect(contents).to.deep.equal([7, 0]);
    await user.close();
    release(user);
    await fresh.close();
    await lock.close();
  });
});

describe('lib/shared-state: a process that ends holding a named mutex', () => {
  it('passes the lock on, drops what it changed under it, and says so in the log', async () => {
    const { rt, logs } = await start();
    const lock = await named.mutex('stats-lock');
    const stats = await named.memory('stats', 8, (memory) => {
      new Int32Array(memory)[1] = 5;
    });
    const { apt, pid } = await processApartment(rt, { process: 'holder' });
    const user = await apt.createObject<Remote<NamedLockUser>>('NamedLockUser');
    await user.open();
    await user.holdWriting(999);
    expect(lock.value.tryLock(), 'the process holds the mutex').to.equal(undefined);
    process.kill(pid, 'SIGKILL');
    {
      using _held = await lock.value.lock({ timeoutMs: HANG_GUARD_MS });
      expect(new Int32Array(stats.value)[1], 'the dead holder\'s change was never written').to.equal(5);
    }
    await eventually(() => {
      expect(logs.some((e) => e.level === 'warn' && /^\[mutex-abandoned\] apartment \d+ ended holding named mutex 'stats-lock'/.test(e.message))).to.equal(true);
    });
    await stats.close();
    await lock.close();
    expect(rt.isNamedOpen('stats'), 'the dead process\'s handles were closed').to.equal(false);
  });
});

describe('lib/shared-state: named objects in a process apartment refuse what needs shared memory', () => {
  it('refuses tryLock, lockSync and named counters there, and a wait that times out or is aborted leaves nothing held', async () => {
    const { rt } = await start();
    const { apt } = await processApartment(rt, { process: 'plugins' });
    const user = await apt.createObject<Remote<NamedLockUser>>('NamedLockUser');
    await user.open();
    const [tryLock, lockSync, counter] = await user.refusals();
    expect(tryLock?.message).to.match(/^\[lock-remote\] tryLock\('stats-lock'\) cannot answer at once here/);
    expect(lockSync?.message).to.match(/^\[lock-remote\] lockSync\('stats-lock'\) cannot block here/);
    expect(counter?.name).to.equal('MarshalError');
    expect(counter?.message).to.match(/^\[no-shared-memory\] named counter 'stats-count'/);

    const lock = await named.mutex('stats-lock');
    const held = await lock.value.lock();
    const timedOut = await user.lockWithin(100);
    expect(timedOut?.name).to.equal('CallTimeoutError');
    expect(timedOut?.message).to.match(/^\[lock-timeout\] 'stats-lock' was not acquired within 100 ms/);
    await cancelThenFree(user, lock, held, 100);
  });
});

describe('lib/shared-state: a named lock a process apartment waits for lasts its own timeoutMs, not the process\'s call deadline', () => {
  it('is granted long after the call deadline with timeoutMs Infinity, ends at its own timeoutMs either side of that deadline, and its signal still cancels it', async () => {
    const { rt } = await start();
    // The process's calls to the main apartment, which takes the lock for it, have a short deadline.
    const deadlineMs = 300;
    const { apt } = await processApartment(rt, { process: 'patient', defaultTimeoutMs: deadlineMs });
    const user = await apt.createObject<Remote<NamedLockUser>>('NamedLockUser');
    await user.open();
    const lock = await named.mutex('stats-lock');
    let held = await lock.value.lock();
    let ended: unknown = 'waiting';
    const waiting = user.lockWithin(Infinity).then((r) => (ended = r));
    // Before: the wait failed with CallTimeoutError once the process's call deadline passed.
    await new Promise((r) => setTimeout(r, 5 * deadlineMs));
    expect(ended, 'still waiting after 5 call deadlines').to.equal('waiting');
    held.unlock();
    await waiting;
    expect(ended, 'granted, no refusal').to.equal(undefined);

    held = await lock.value.lock({ timeoutMs: HANG_GUARD_MS });
    for (const timeoutMs of [2 * deadlineMs, deadlineMs / 3]) {
      const timedOut = await user.lockWithin(timeoutMs);
      expect(timedOut?.name, String(timeoutMs)).to.equal('CallTimeoutError');
      // Before, for the longer one: the call deadline's '[timeout] call 'named.lock' …', at 300 ms.
      expect(timedOut?.message).to.match(new RegExp(`^\\[lock-timeout\\] 'stats-lock' was not acquired within ${timeoutMs} ms`));
    }
    await cancelThenFree(user, lock, held, 5 * deadlineMs);
  });
});

describe('lib/shared-state: forged lock messages from a process are refused and write nothing', () => {
  it('refuses unknown tokens, unopened names and writes outside the memory, and applies a well-formed unlock', async () => {
    const { rt } = await start();
    const { apt } = await processApartment(rt, { process: 'forger' });
    const user = await apt.createObject<Remote<NamedLockUser>>('NamedLockUser');
    const prober = await apt.createObject<Remote<ControlProber>>('ControlProber');
    await user.open();
    const refused = async (method: string, args: unknown[], pattern: RegExp): Promise<void> => {
      const answer = await prober.call(0, method, args);
      expect(answer.ok, `${method} was refused`).to.equal(false);
      expect(answer.ok ? '' : answer.message).to.match(pattern);
    };
    await refused('named.unlock', [77, []], /^\[named-unlock\] this apartment holds no lock under token 77/);
    await refused('named.lock', ['no-such-lock', 5, null], /^\[named-lock\] this apartment holds no handle on a named mutex 'no-such-lock'/);
    const lockAs = async (token: number): Promise<void> => {
      expect((await prober.call(0, 'named.lock', ['stats-lock', token, null])).ok, 'a lock on an opened mutex is granted').to.equal(true);
    };
    await lockAs(5);
    await refused('named.lock', ['stats-lock', 5, null], /^\[named-lock\] lock token 5 is already in use/);
    // An unlock whose writes are refused writes nothing and still releases the lock (each is locked again).
    await refused('named.unlock', [5, [['stats', 6, new Uint8Array(4)]]], /^\[named-write\] 4 bytes at offset 6 do not fit named memory 'stats' of 8 bytes/);
    await lockAs(6);
    await refused('named.unlock', [6, [['elsewhere', 0, new Uint8Array(1)]]], /^\[named-write\] this apartment holds no handle on named memory 'elsewhere'/);
    await lockAs(7);
    // Malformed arguments are refused before the unlock runs: the lock stays held.
    await refused('named.unlock', [7, [['stats', 0, 'not bytes']]], /^\[control-args\] writes\[\]\.bytes must be a Uint8Array/);
    const visits = new Uint8Array(Int32Array.of(7).buffer);
    const unlocked = await prober.call(0, 'named.unlock', [7, [['stats', 4, visits]]]);
    expect(unlocked.ok, 'a well-formed unlock is applied').to.equal(true);
    expect(await hostCounts(), 'only the well-formed write landed').to.deep.equal([0, 7]);
    await refused('named.unlock', [7, []], /^\[named-unlock\] this apartment holds no lock under token 7/);
    await user.close();
    release(user);
    release(prober);
  });
});
