import { expect } from 'chai';
import { SharedMutex } from '../../../lib/index.js';
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
