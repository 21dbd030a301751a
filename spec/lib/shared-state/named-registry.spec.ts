import { expect } from 'chai';
import { NamedRegistry, type NamedGrant } from '../../../lib/shared-state/named-registry.js';

/** Whether `p` has settled by the end of the current turn, and with what. */
async function settledNow<T>(p: Promise<T> | T): Promise<T | 'waiting'> {
  return Promise.race([Promise.resolve(p), new Promise<'waiting'>((resolve) => setImmediate(() => resolve('waiting')))]);
}

describe('lib/shared-state/named-registry: creation never passes to an apartment that is gone', () => {
  it('hands named memory its dead creator left unfinished to a live waiter, not to one that died while waiting', async () => {
    const registry = new NamedRegistry();
    expect(registry.open(1, 'memory', 'm', 64)).to.include({ create: true });
    const dead = registry.open(2, 'memory', 'm', 64) as Promise<NamedGrant>;
    const live = registry.open(3, 'memory', 'm', 64) as Promise<NamedGrant>;
    registry.dropApartment(2);
    registry.dropApartment(1);
    // Before: creation went to apartment 2, which is gone, and apartment 3 waited for good.
    expect(await settledNow(live)).to.include({ create: true });
    expect(await settledNow(dead)).to.equal('waiting');
  });

  it('hands a once() value whose builder died to a live waiter', async () => {
    const registry = new NamedRegistry();
    expect(registry.onceBegin(1, 'config')).to.deep.equal({ build: true });
    void registry.onceBegin(2, 'config');
    const live = registry.onceBegin(3, 'config');
    registry.dropApartment(2);
    registry.dropApartment(1);
    expect(await settledNow(live)).to.deep.equal({ build: true });
  });

  it('passes creation on when the creator closes its handle before publishing', async () => {
    const registry = new NamedRegistry();
    expect(registry.open(1, 'memory', 'm', 64)).to.include({ create: true });
    const waiter = registry.open(2, 'memory', 'm', 64) as Promise<NamedGrant>;
    // Before: the entry was dropped with its waiter in it, unanswered.
    registry.close(1, 'm');
    expect(await settledNow(waiter)).to.include({ create: true });
    registry.publish(2, 'm');
    expect(registry.open(3, 'memory', 'm', 64)).to.include({ create: false });
  });
});
