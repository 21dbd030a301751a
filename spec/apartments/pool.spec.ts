import { expect } from 'chai';
import { CallTimeoutError, DisconnectedError, InvalidArgumentError, release, type Runtime } from '../../lib/index.js';
import { MAX_POOL_SIZE } from '../../apartments/apartment-pool.js';
import { expectUnknownOption, refusal, startRefusal } from '../fixtures/option-refusals.js';
import type { Tally } from '../fixtures/assignment-classes.js';
import type { Calc } from '../fixtures/calc.js';
import type { Holder } from '../fixtures/holder.js';
import { eventually, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

async function start(): Promise<Runtime> {
  ({ rt } = await startRuntime());
  rt.registerClass('Tally', { module: fixture('assignment-classes.js'), export: 'Tally' });
  return rt;
}

describe('apartments/pool: checkout and checkin', () => {
  it('lends each apartment to one owner at a time, and a waiter gets it after checkin', async () => {
    const r = await start();
    const pool = r.createPool({ size: 1 });
    const first = await pool.checkout();
    let second: unknown;
    const waiting = pool.checkout().then((p) => (second = p));
    await new Promise((res) => setTimeout(res, 30));
    expect(second).to.equal(undefined);
    const id = first.id;
    await first.checkin();
    const got = await waiting;
    expect(got.id).to.equal(id);
  });

  it('resets the apartment on checkin: objects released, reset hooks run, nothing left for the next owner', async () => {
    const r = await start();
    const pool = r.createPool({ size: 1 });
    const lease = await pool.checkout();
    const t = await lease.createObject<Tally>('Tally');
    await t.registerReset();
    await lease.createObject<Tally>('Tally');
    expect((await lease.stats()).exports).to.equal(2);
    await lease.checkin();
    expect(await t.where().catch((e: unknown) => e)).to.be.instanceOf(DisconnectedError);
    const next = await pool.checkout();
    expect((await next.stats()).exports).to.equal(0);
    const fresh = await next.createObject<Tally>('Tally');
    expect(await fresh.globalCount()).to.equal(1);
    expect(await fresh.resets()).to.deep.equal(['reset at 2']);
  });

  it('forgets the classes it loaded and releases every reference it held, here and in other apartments', async () => {
    const r = await start();
    const pool = r.createPool({ size: 1 });
    const lease = await pool.checkout();
    const holder = await lease.createObject<Holder>('Holder');
    const peer = await r.createApartment();
    const calc = await peer.createObject<Calc>('Calc');
    await holder.keep(() => 'a host callback');
    await holder.keep(calc);
    // Only the pooled apartment keeps the calc from now on.
    release(calc);
    expect(r.stats().exports, 'the host callback, held by the pooled apartment').to.equal(1);
    expect((await peer.stats()).exports).to.equal(1);
    expect((await lease.stats()).loadedClasses).to.be.greaterThan(0);
    await lease.checkin();
    await eventually(async () => {
      expect(r.stats().exports, 'main exports').to.equal(0);
      expect((await peer.stats()).exports, 'peer exports').to.equal(0);
    });
    const next = await pool.checkout();
    const s = await next.stats();
    expect(s.loadedClasses, 'classes still loaded after checkin').to.equal(0);
    expect(s.proxies, 'references still held after checkin').to.equal(0);
    expect(s.exports).to.equal(0);
  });

  it('gives back the shared-resource leases the apartment held', async () => {
    const r = await start();
    r.registerClass('SharedUser', { module: fixture('shared-user.js'), export: 'SharedUser' });
    const log: string[] = [];
    r.defineSharedResource('cache', { create: () => ({ use: () => 1 }), dispose: () => void log.push('dispose') });
    const pool = r.createPool({ size: 1 });
    const lease = await pool.checkout();
    const user = await lease.createObject<{ acquireAndKeep(name: string): Promise<number> }>('SharedUser');
    expect(await user.acquireAndKeep('cache')).to.equal(1);
    expect(await user.acquireAndKeep('cache')).to.equal(1);
    expect(r.sharedLeases('cache')).to.equal(2);
    await lease.checkin();
    expect(r.sharedLeases('cache')).to.equal(0);
    expect(log).to.deep.equal(['dispose']);
  });

  it('refuses use of an apartment after it was checked in', async () => {
    const r = await start();
    const pool = r.createPool({ size: 1 });
    const lease = await pool.checkout();
    await lease.checkin();
    expect(await lease.createObject('Tally').catch((e: unknown) => e)).to.be.instanceOf(DisconnectedError);
    expect(() => lease.apartment).to.throw(DisconnectedError, /checked-in/);
  });

  it('fails a checkout that waits past its timeout', async () => {
    const r = await start();
    const pool = r.createPool({ size: 1, checkoutTimeoutMs: 30 });
    await pool.checkout();
    expect(await pool.checkout().catch((e: unknown) => e)).to.be.instanceOf(CallTimeoutError);
  });

  it('waits without limit with checkoutTimeoutMs Infinity, where a Node timer of that length failed the wait after 1 ms', async () => {
    const r = await start();
    const pool = r.createPool({ size: 1, checkoutTimeoutMs: Infinity });
    const first = await pool.checkout();
    const waiting = pool.checkout();
    // The waiter is still there once a later checkin's reset has run: it gets the apartment.
    const id = first.id;
    await first.checkin();
    expect((await waiting).id).to.equal(id);
  });

  it('refuses options that are not an object, and a checkoutTimeoutMs that is not a positive number, with InvalidArgumentError', async () => {
    const r = await start();
    for (const checkoutTimeoutMs of [0, -1, NaN, '5']) {
      expect(() => r.createPool({ size: 1, checkoutTimeoutMs: checkoutTimeoutMs as number }), String(checkoutTimeoutMs)).to.throw(InvalidArgumentError, /^\[pool-timeout\]/);
    }
    for (const options of [4, null]) expect(() => r.createPool(options as never), String(options)).to.throw(InvalidArgumentError, /^\[pool-options\]/);
  });

  it('refuses a pool larger than MAX_POOL_SIZE apartments, and a free pool too, with [pool-size] / [free-pool] before any thread starts', async () => {
    // Before: accepted, and the first checkout started that many threads at once.
    const free = await startRefusal({ freePoolSize: MAX_POOL_SIZE + 1 });
    expect(free).to.be.instanceOf(InvalidArgumentError);
    expect((free as Error).message).to.match(new RegExp(`^\\[free-pool\\] freePoolSize must be a whole number from 1 to ${MAX_POOL_SIZE}`));
    const r = await start();
    for (const size of [MAX_POOL_SIZE + 1, 1e6, Infinity]) {
      expect(() => r.createPool({ size }), String(size)).to.throw(InvalidArgumentError, new RegExp(`^\\[pool-size\\] a pool needs a whole number of apartments from 1 to ${MAX_POOL_SIZE}`));
    }
    // The bound itself is a size: a pool starts its apartments on first checkout, not here.
    expect(r.createPool({ size: MAX_POOL_SIZE }).available).to.equal(0);
    expect(r.apartments).to.have.length(0);
  });

  it('refuses a misspelt option with [unknown-option], naming the one meant', async () => {
    const r = await start();
    // Before: ignored, and the pool had the default two apartments.
    expectUnknownOption(await refusal(() => r.createPool({ sise: 4 } as never)), 'sise', 'createPool()', 'size');
    expectUnknownOption(await refusal(() => r.createPool({ size: 1, checkoutTimeout: 5 } as never)), 'checkoutTimeout', 'createPool()', 'checkoutTimeoutMs');
  });

  it('checks in through await using', async () => {
    const r = await start();
    const pool = r.createPool({ size: 1 });
    {
      await using lease = await pool.checkout();
      await lease.createObject<Tally>('Tally');
    }
    expect(pool.available).to.equal(1);
  });
});

describe('apartments/pool: an apartment that ends while checked out, or whose reset fails', () => {
  it('is replaced by a new one at check-in, so the pool keeps its size and the next owner gets a fresh apartment', async () => {
    const r = await start();
    r.registerClass('Crasher', { module: fixture('crasher.js'), export: 'Crasher' });
    const pool = r.createPool({ size: 1, checkoutTimeoutMs: 120_000 });
    const first = await pool.checkout();
    const firstId = first.id;
    const crasher = await first.createObject<{ exit(code: number): Promise<never> }>('Crasher');
    await crasher.exit(1).catch(() => undefined);
    await eventually(() => {
      expect(first.apartment.state).to.equal('faulted');
    }, 60_000);
    await first.checkin();
    // Before: the dead apartment was dropped, and this checkout waited until its timeout.
    const second = await pool.checkout();
    expect(second.id, 'a new apartment').to.not.equal(firstId);
    const secondId = second.id;
    const t = await second.createObject<Tally>('Tally');
    await t.registerDyingReset();
    await second.checkin();
    const third = await pool.checkout();
    expect(third.id, 'its reset failed: a new apartment again').to.not.equal(secondId);
    expect(await (await third.createObject<Tally>('Tally')).globalCount(), 'a fresh one').to.equal(1);
    await third.checkin();
  });
});

describe('apartments/pool: close() while a replacement apartment starts', () => {
  it('waits for the replacement and ends it too: no apartment of the pool outlives close()', async () => {
    const r = await start();
    const pool = r.createPool({ size: 1 });
    const lease = await pool.checkout();
    await lease.apartment.terminate();
    // The ended apartment is replaced at check-in: its replacement starts now.
    await lease.checkin();
    await pool.close();
    // Before: close() resolved with the replacement still starting, and it was closed later, unawaited.
    expect(r.apartments.map((a) => `${a.label}: ${a.state}`)).to.deep.equal([]);
  });
});

describe('apartments/pool: close() while a check-in resets its apartment', () => {
  it('ends the apartment without a warning that it could not be reset and was replaced', async () => {
    const { rt: r, logs } = await startRuntime();
    rt = r;
    r.registerClass('Tally', { module: fixture('assignment-classes.js'), export: 'Tally' });
    const pool = r.createPool({ size: 1 });
    const lease = await pool.checkout();
    await (await lease.createObject<Tally>('Tally')).registerSlowReset(2_000);
    const checkedIn = lease.checkin();
    await new Promise((res) => setTimeout(res, 50));
    await pool.close();
    await checkedIn;
    // Before: '[pool-reset] … could not be reset on check-in (…closed…); it is ended and replaced by a new apartment'.
    expect(logs.map((e) => e.message).filter((m) => m.startsWith('[pool-'))).to.deep.equal([]);
    expect(r.apartments).to.deep.equal([]);
  });
});
