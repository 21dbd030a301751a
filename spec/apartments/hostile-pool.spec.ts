import { expect } from 'chai';
import { release, type SharedMutex } from '../../lib/index.js';
import type { HostilePlugin } from '../fixtures/hostile-plugin.js';
import { eventually, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

// A plugin lent a pooled apartment takes what the main apartment keeps in its apartment's name —
// a shared-resource lease, a named object, a named lock — by calling the control services
// directly, so its apartment's runtime never learns of them, and is checked back in. The next
// owner gets the apartment as new: nothing of the last owner's is still held in its name.

describe('apartments/hostile-pool: what the last owner took through the control services ends at checkin', () => {
  it('drops the leases, named handles and named locks a pooled apartment held when it is reset', async () => {
    const { rt } = await startRuntime();
    rt.registerClass('HostilePlugin', { module: fixture('hostile-plugin.js'), export: 'HostilePlugin' });
    let disposed = 0;
    rt.defineSharedResource('conn', { create: () => 42, dispose: () => void disposed++ });
    const pool = rt.createPool({ size: 1 });
    const lent = await pool.checkout();
    const lentId = lent.id;
    const hostile = await lent.createObject<HostilePlugin>('HostilePlugin');
    await hostile.control(0, 'shared-resources.acquire', 'conn');
    await hostile.control(0, 'named.open', 'counter', 'left-behind', 8, 1);
    // The host holds the mutex too: it stays open after the plugin's handle closes.
    const mutex = await rt.named.mutex('left-locked');
    await hostile.control(0, 'named.open', 'mutex', 'left-locked', (mutex.value as SharedMutex).handle.sab.byteLength, 2);
    await hostile.control(0, 'named.lock', 'left-locked', 1, undefined);
    expect(rt.sharedLeases('conn')).to.equal(1);
    release(hostile);
    await lent.checkin();
    const next = await pool.checkout();
    expect(next.id, 'the same apartment, for its next owner').to.equal(lentId);
    await eventually(() => {
      expect(rt.sharedLeases('conn'), 'the lease is given back').to.equal(0);
      expect(disposed).to.equal(1);
    }, 60_000);
    expect(rt.isNamedOpen('left-behind'), 'the named counter is closed').to.equal(false);
    // The lock passed on: the host takes the same named mutex.
    const guard = await (mutex.value as SharedMutex).lock({ timeoutMs: 60_000 });
    guard.unlock();
    await mutex.close();
    await next.checkin();
  });

  it('says a named lock it drops at a reset was dropped because the apartment was reset, not because it ended', async () => {
    const { rt, logs } = await startRuntime();
    rt.registerClass('HostilePlugin', { module: fixture('hostile-plugin.js'), export: 'HostilePlugin' });
    const pool = rt.createPool({ size: 1 });
    const lent = await pool.checkout();
    const lentId = lent.id;
    const hostile = await lent.createObject<HostilePlugin>('HostilePlugin');
    const mutex = await rt.named.mutex('left-locked');
    await hostile.control(0, 'named.open', 'mutex', 'left-locked', (mutex.value as SharedMutex).handle.sab.byteLength, 1);
    await hostile.control(0, 'named.lock', 'left-locked', 1, undefined);
    release(hostile);
    await lent.checkin();
    const abandoned = logs.filter((e) => e.level === 'warn' && e.message.startsWith('[mutex-abandoned]')).map((e) => e.message);
    // Before: '… ended holding named mutex …', though the apartment still runs, lent to its next owner.
    expect(abandoned).to.have.length(1);
    expect(abandoned[0]).to.match(new RegExp(`^\\[mutex-abandoned\\] apartment ${lentId} was reset for its pool's next owner while holding named mutex 'left-locked'; .*unlock named mutexes before checking an apartment in$`));
    const guard = await (mutex.value as SharedMutex).lock({ timeoutMs: 60_000 });
    guard.unlock();
    await mutex.close();
  });
});
