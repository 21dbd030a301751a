import { expect } from 'chai';
import { InvalidArgumentError, LockOrderError, SharedMutex, setLockOrderChecking, type Remote } from '../../../lib/index.js';
import { HELD_LOCK_ROWS, heldLocks } from '../../../lib/shared-state/held-lock-table.js';
import type { Racer } from '../../fixtures/shared-state-classes.js';
import { startRuntime } from '../../fixtures/runtime-fixture.js';
import { startRacers } from './racers.js';

async function racers(n: number): Promise<Remote<Racer>[]> {
  return (await startRacers(n)).racers;
}

/** A promise with its resolve function, for ordering two flows without timing. */
function signal(): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((r) => (fire = r));
  return { promise, fire };
}

describe('lib/shared-state: the lock hierarchy within one apartment', () => {
  const cases: [number[], boolean][] = [
    [[1, 2, 3], true],
    [[1, 3], true],
    [[2, 1], false],
    [[1, 1], false],
    [[3, 2, 1], false],
    [[1, 2, 2], false],
  ];
  for (const [levels, valid] of cases) {
    it(`${valid ? 'allows' : 'refuses'} taking levels ${levels.join(' → ')}`, async () => {
      const [r] = await racers(1);
      const answer = await r!.takeInOrder(levels);
      if (valid) expect(answer).to.equal('ok');
      else expect(answer).to.match(/^LockOrderError: \[lock-order\] taking 'L\d' \(level \d\) while holding 'L\d'/);
    });
  }
});

describe('lib/shared-state: the lock hierarchy follows a logical call across apartments', () => {
  it('refuses a lower lock in apartment B while the same call holds a higher one in apartment A, naming both', async () => {
    const [a, b] = await racers(2);
    const answer = await a!.chainLocks([['accounts', 5], ['audit', 1]], [b!]);
    expect(answer).to.equal("LockOrderError: [lock-order] taking 'audit' (level 1) while holding 'accounts' (level 5); take locks in ascending level order, or release 'accounts' first");
  });

  it('sees locks the call took in other apartments when it comes back (A → B → A)', async () => {
    const [a, b] = await racers(2);
    const answer = await a!.chainLocks([['a1', 1], ['b3', 3], ['a2', 2]], [b!, a!]);
    expect(answer).to.match(/^LockOrderError: \[lock-order\] taking 'a2' \(level 2\) while holding 'b3' \(level 3\)/);
  });

  it('never refuses ascending orders across apartments, and leaves nothing recorded afterwards', async () => {
    const [a, b, c] = await racers(3);
    expect(await a!.chainLocks([['x1', 1], ['x2', 2], ['x3', 3]], [b!, c!])).to.equal('ok');
    expect(await a!.chainLocks([['y1', 1], ['y2', 2], ['y3', 3], ['y4', 4]], [b!, a!, c!])).to.equal('ok');
    // Separate calls are separate logical calls: one may take a level below what the other holds.
    const both = await Promise.all([a!.chainLocks([['p2', 2], ['p3', 3]], [c!]), b!.chainLocks([['q1', 1], ['q2', 2]], [c!])]);
    expect(both).to.deep.equal(['ok', 'ok']);
    expect(heldLocks.rowsInUse()).to.equal(0);
  });
});

describe('lib/shared-state: the held-lock table has a limit', () => {
  it(`refuses the lock after ${HELD_LOCK_ROWS} held at once with [lock-order-full], and recovers when they are released`, async () => {
    const [a] = await racers(1);
    expect(await a!.holdMany(HELD_LOCK_ROWS)).to.equal('ok');
    expect(await a!.holdMany(HELD_LOCK_ROWS + 1)).to.match(/^ApartmentError: \[lock-order-full\] more than 512 ordered locks/);
    expect(heldLocks.rowsInUse()).to.equal(0);
    expect(await a!.holdMany(3)).to.equal('ok');
  });
});

describe('lib/shared-state: outside any served call, each flow on a thread has its own held locks', () => {
  it('refuses the wrong order within one flow on the main thread', async () => {
    await startRuntime();
    const high = await new SharedMutex({ name: 'high', level: 5 }).lock();
    expect(() => new SharedMutex({ name: 'low', level: 1 }).tryLock()).to.throw(LockOrderError, /'low'.*'high'/);
    high.unlock();
    new SharedMutex({ name: 'low', level: 1 }).tryLock()!.unlock();
  });

  it('does not refuse flows started by separate events that take locks in opposite orders', async () => {
    await startRuntime();
    const hi = new SharedMutex({ name: 'hi', level: 2 });
    const lo = new SharedMutex({ name: 'lo', level: 1 });
    const aHolds = signal();
    const bDone = signal();
    // Flow A holds 'hi' across awaits; meanwhile flow B takes 'lo' (below it).
    const flowA = new Promise<void>((resolve, reject) => setImmediate(() => {
      (async () => {
        const g = await hi.lock();
        aHolds.fire();
        await bDone.promise;
        g.unlock();
      })().then(resolve, reject);
    }));
    const flowB = new Promise<void>((resolve, reject) => setImmediate(() => {
      (async () => {
        await aHolds.promise;
        (await lo.lock()).unlock();
        bDone.fire();
      })().then(resolve, reject);
    }));
    await Promise.all([flowA, flowB]);
  });

  it('does not refuse tasks started side by side, each taking its first lock before its first await', async () => {
    await startRuntime();
    const hi = new SharedMutex({ name: 'hi', level: 2 });
    const lo = new SharedMutex({ name: 'lo', level: 1 });
    const lower = new SharedMutex({ name: 'lower', level: 1.5 });
    const aHolds = signal();
    const bDone = signal();
    const taskA = async (): Promise<void> => {
      const g = await hi.lock();
      aHolds.fire();
      await bDone.promise;
      g.unlock();
    };
    const taskB = async (): Promise<void> => {
      const g = await lo.lock();
      await aHolds.promise;
      (await lower.lock()).unlock(); // 1 then 1.5 is B's own ascending order, though A holds 2
      g.unlock();
      bDone.fire();
    };
    await Promise.all([taskA(), taskB()]);
  });
});

describe('lib/shared-state: switching lock-order checking', () => {
  it('takes true or false only', () => {
    // Before: 'no' was truthy, and turned checking on.
    for (const on of ['no', 0, undefined]) expect(() => setLockOrderChecking(on as never), String(on)).to.throw(InvalidArgumentError, /^\[lock-order\]/);
    setLockOrderChecking(true);
  });
});
