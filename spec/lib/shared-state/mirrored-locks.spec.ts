import { expect } from 'chai';
import { ApartmentError, InvalidArgumentError, SharedMutex } from '../../../lib/index.js';
import { MirroredLocks } from '../../../lib/shared-state/mirrored-locks.js';
import { NamedRegistry } from '../../../lib/shared-state/named-registry.js';

/** A named mutex's bytes: its words and its waiters' tickets (shared-mutex.ts). */
const MUTEX_BYTES = new SharedMutex().handle.sab.byteLength;

describe('lib/shared-state/mirrored-locks: a lock token given up while it waited may be used again at once', () => {
  it('leaves the new lock of that token alone when the old wait ends, so it unlocks, and passes on when its apartment dies', async () => {
    const registry = new NamedRegistry();
    const alive = new Set([5, 6]);
    const locks = new MirroredLocks(registry, (apartment) => alive.has(apartment), () => undefined);
    for (const name of ['x', 'y']) {
      await registry.open(5, 'mutex', name, MUTEX_BYTES);
      await registry.open(6, 'mutex', name, MUTEX_BYTES);
    }
    const holder = await SharedMutex.fromHandle({ sab: registry.heldBy(5, 'x', 'mutex')!, name: 'x', level: undefined }).lock();
    // Apartment 5 waits for x under token 7, gives the wait up, and locks y under token 7.
    const first = locks.lock(5, 'x', 7, undefined).then(() => 'granted', (err: unknown) => (err as Error).constructor.name);
    locks.unlock(5, 7, []);
    await locks.lock(5, 'y', 7, undefined);
    expect(await first, 'the given-up wait ends').to.not.equal('granted');
    // Before: the old wait's end forgot token 7, the lock on y with it: it could not be unlocked,
    // nor passed on when apartment 5 died, and y stayed locked for everyone.
    locks.unlock(5, 7, []);
    await locks.lock(6, 'y', 1, 5_000);
    locks.unlock(6, 1, []);
    await locks.lock(5, 'y', 8, undefined);
    alive.delete(5);
    locks.dropApartment(5);
    await locks.lock(6, 'y', 2, 5_000);
    locks.unlock(6, 2, []);
    holder.unlock();
  });
});

describe('lib/shared-state/mirrored-locks: an unlock whose writes are refused', () => {
  it('writes nothing, says why, and still passes the lock on', async () => {
    const registry = new NamedRegistry();
    const locks = new MirroredLocks(registry, () => true, () => undefined);
    for (const apartment of [5, 6]) await registry.open(apartment, 'mutex', 'x', MUTEX_BYTES);
    await registry.open(5, 'memory', 'm', 8);
    registry.publish(5, 'm');
    const memory = new Uint8Array(registry.heldBy(5, 'm', 'memory')!);
    await locks.lock(5, 'x', 1, undefined);
    const next = locks.lock(6, 'x', 1, undefined).then(() => 'granted');
    // One write fits, the next names memory it does not hold: neither lands.
    expect(() => locks.unlock(5, 1, [['m', 0, new Uint8Array([7])], ['elsewhere', 0, new Uint8Array([1])]])).to.throw(InvalidArgumentError, /named-write.*lock was released/);
    expect(memory[0], 'nothing written').to.equal(0);
    // Before: the refused unlock kept the lock, and apartment 6 waited until apartment 5 ended.
    expect(await next).to.equal('granted');
    expect(() => locks.unlock(5, 1, []), 'the token is spent').to.throw(ApartmentError, /named-unlock/);
    locks.unlock(6, 1, []);
  });
});
