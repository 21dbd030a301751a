import { expect } from 'chai';
import { ApartmentError, CallCanceledError } from '../../../lib/index.js';
import { MAX_NAMED_HANDLES, MAX_ONCE_BUILT, NamedRegistry, type NamedGrant } from '../../../lib/shared-state/named-registry.js';
import { thrown } from '../../fixtures/thrown.js';

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

describe('lib/shared-state/named-registry: an apartment holds a bounded share of named objects', () => {
  it('refuses a handle past an apartment\'s count or bytes with ERROR_BUSY, leaves other apartments alone, and takes more once it closed some', () => {
    const registry = new NamedRegistry();
    for (let i = 0; i < MAX_NAMED_HANDLES; i++) registry.open(1, 'counter', `c${i}`, 8);
    const tooMany = thrown(() => registry.open(1, 'counter', 'one-more', 8));
    expect(tooMany).to.be.instanceOf(ApartmentError);
    expect(tooMany).to.include({ code: 'ERROR_BUSY' });
    expect(tooMany.message).to.match(/^\[named-quota\] this apartment holds 1024 named objects already/);
    expect(registry.open(1, 'counter', 'c0', 8), 'a name it holds opens again').to.include({ create: false });
    expect(registry.open(2, 'counter', 'one-more', 8), 'another apartment is not held back').to.include({ create: true });
    registry.close(1, 'c1');
    expect(registry.open(1, 'counter', 'one-more', 8)).to.include({ create: false });
    // Bytes: a caller that copies every memory at each lock (a process apartment) asks for a smaller cap.
    registry.open(3, 'memory', 'a', 1_024, 2_048);
    const tooBig = thrown(() => registry.open(3, 'memory', 'b', 2_048, 2_048));
    expect(tooBig.message).to.match(/^\[named-quota\] this apartment holds 1024 bytes of named objects; 2048 more would pass its 2048/);
  });

  it('refuses a create-once value past what one apartment may build, since built values are kept for good', () => {
    const registry = new NamedRegistry();
    for (let i = 0; i < MAX_ONCE_BUILT; i++) {
      expect(registry.onceBegin(1, `v${i}`)).to.deep.equal({ build: true });
      registry.onceDone(1, `v${i}`, i);
    }
    expect(thrown(() => registry.onceBegin(1, 'one-more')).message).to.match(/^\[once-quota\]/);
    expect(registry.onceBegin(1, 'v7'), 'values built already are still read').to.deep.equal({ value: 7 });
  });
});

describe('lib/shared-state/named-registry: a grant whose caller gave up on the way back', () => {
  it('passes creation granted to a request its caller gave up to the next waiter, and touches nothing else of that apartment', async () => {
    const registry = new NamedRegistry();
    expect(registry.open(1, 'memory', 'm', 64, undefined, undefined, 1)).to.include({ create: true });
    const late = registry.open(2, 'memory', 'm', 64, undefined, undefined, 5) as Promise<NamedGrant>;
    const next = registry.open(3, 'memory', 'm', 64, undefined, undefined, 1) as Promise<NamedGrant>;
    registry.abandon(1, 'm');
    // Creation went to apartment 2's request 5, whose caller had given up: it says so with the ticket.
    expect(await settledNow(late)).to.include({ create: true });
    registry.giveUpOpen(2, 'm', 4);
    expect(await settledNow(next), 'another ticket of the same apartment gives up nothing').to.equal('waiting');
    registry.giveUpOpen(2, 'm', 5);
    expect(await settledNow(next)).to.include({ create: true });
  });

  it('closes a handle granted at publish to a request its caller gave up, and leaves a waiting request out of the queue', async () => {
    const registry = new NamedRegistry();
    expect(registry.open(1, 'memory', 'm', 64, undefined, undefined, 1)).to.include({ create: true });
    const late = registry.open(2, 'memory', 'm', 64, undefined, undefined, 7) as Promise<NamedGrant>;
    const kept = registry.open(2, 'memory', 'm', 64, undefined, undefined, 8) as Promise<NamedGrant>;
    const leaving = registry.open(3, 'memory', 'm', 64, undefined, undefined, 2) as Promise<NamedGrant>;
    registry.giveUpOpen(3, 'm', 2);
    const left = await leaving.catch((e: unknown) => e);
    expect(left, String(left)).to.be.instanceOf(CallCanceledError);
    registry.publish(1, 'm');
    expect(await settledNow(late)).to.include({ create: false });
    expect(await settledNow(kept)).to.include({ create: false });
    registry.giveUpOpen(2, 'm', 7);
    registry.giveUpOpen(2, 'm', 7);
    // Apartment 2 holds the one handle its request 8 was granted: closing it closes its last.
    registry.close(2, 'm');
    expect(() => registry.close(2, 'm')).to.throw(ApartmentError, /named-close/);
    registry.close(1, 'm');
    expect(registry.isOpen('m')).to.equal(false);
  });

  it('passes building granted to a once() request its caller gave up to the next waiter', async () => {
    const registry = new NamedRegistry();
    expect(registry.onceBegin(1, 'config', undefined, 1)).to.deep.equal({ build: true });
    const late = registry.onceBegin(2, 'config', undefined, 3);
    const next = registry.onceBegin(3, 'config', undefined, 1);
    registry.onceFailed(1, 'config');
    expect(await settledNow(late)).to.deep.equal({ build: true });
    registry.giveUpOnce(2, 'config', 2);
    expect(await settledNow(next), 'another ticket gives up nothing').to.equal('waiting');
    registry.giveUpOnce(2, 'config', 3);
    expect(await settledNow(next)).to.deep.equal({ build: true });
    registry.onceDone(3, 'config', 'three');
    registry.giveUpOnce(3, 'config', 1);
    expect(registry.onceBegin(4, 'config', undefined, 1), 'a value once built stays').to.deep.equal({ value: 'three' });
  });
});

describe('lib/shared-state/named-registry: a handle granted at once to a request its caller gave up', () => {
  it('is closed by the give-up, whether the request created the name (a counter, ready at once) or opened it ready', () => {
    const registry = new NamedRegistry();
    expect(registry.open(1, 'counter', 'c', 4, undefined, undefined, 1)).to.include({ create: true });
    expect(registry.open(2, 'counter', 'c', 4, undefined, undefined, 3)).to.include({ create: false });
    // Both answers crossed their callers' cancels: each caller names its request.
    registry.giveUpOpen(2, 'c', 3);
    expect(() => registry.close(2, 'c'), 'apartment 2 holds nothing').to.throw(ApartmentError, /named-close/);
    registry.giveUpOpen(1, 'c', 1);
    expect(registry.isOpen('c'), 'nobody holds the counter').to.equal(false);
  });

  it('closes the handle of that request, not one the apartment closed meanwhile by its own ticket', () => {
    const registry = new NamedRegistry();
    expect(registry.open(1, 'counter', 'c', 4, undefined, undefined, 1)).to.include({ create: true });
    registry.open(2, 'counter', 'c', 4, undefined, undefined, 3);
    registry.open(2, 'counter', 'c', 4, undefined, undefined, 4);
    // Request 3 crossed its caller's cancel; request 4 reached its caller, which closed it before the give-up arrived.
    registry.close(2, 'c', 4);
    registry.giveUpOpen(2, 'c', 3);
    expect(() => registry.close(2, 'c'), 'apartment 2 holds nothing').to.throw(ApartmentError, /named-close/);
    registry.close(1, 'c');
    expect(registry.isOpen('c')).to.equal(false);
  });
});

describe('lib/shared-state/named-registry: the waits of one apartment on one name', () => {
  it(`are bounded at ${MAX_NAMED_HANDLES} with ERROR_BUSY, and each one still waiting gets its handle at publish`, async () => {
    const registry = new NamedRegistry();
    expect(registry.open(1, 'memory', 'm', 64)).to.include({ create: true });
    const waits = Array.from({ length: MAX_NAMED_HANDLES }, () => registry.open(2, 'memory', 'm', 64) as Promise<NamedGrant>);
    const tooMany = thrown(() => registry.open(2, 'memory', 'm', 64));
    expect(tooMany).to.be.instanceOf(ApartmentError);
    expect(tooMany).to.include({ code: 'ERROR_BUSY' });
    expect(tooMany.message).to.match(/^\[named-quota\] this apartment waits for 'm' 1024 times already/);
    expect(registry.open(3, 'memory', 'm', 64), 'another apartment still waits').to.be.instanceOf(Promise);
    registry.publish(1, 'm');
    for (const grant of await Promise.all(waits)) expect(grant).to.include({ create: false });
  });
});
