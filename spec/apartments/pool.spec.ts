import { expect } from 'chai';
import { CallTimeoutError, DisconnectedError, type Runtime } from '../../lib/index.js';
import type { Tally } from '../fixtures/assignment-classes.js';
import { fixture, startRuntime } from '../fixtures/runtime-fixture.js';

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
