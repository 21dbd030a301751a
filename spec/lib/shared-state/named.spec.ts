import { expect } from 'chai';
import { AtomicCounter, InvalidArgumentError, MarshalError, named, once, type Remote, type Runtime } from '../../../lib/index.js';
import { MAX_ONCE_BUILT_BYTES, MAX_ONCE_VALUE_BYTES } from '../../../lib/shared-state/named-registry.js';
import type { PoolLocker, Racer } from '../../fixtures/shared-state-classes.js';
import { eventually, fixture, startRuntime } from '../../fixtures/runtime-fixture.js';
import { startRacers } from './racers.js';

let rt: Runtime | undefined;

async function racers(n: number): Promise<Remote<Racer>[]> {
  const started = await startRacers(n);
  rt = started.rt;
  return started.racers;
}

describe('lib/shared-state: named objects are created once, opened after, released at the last close', () => {
  it('has exactly one creator and one initialisation when 5 apartments race, and nobody sees it uninitialised', async () => {
    const rs = await racers(5);
    const inits = await named.counter('segment:inits');
    const results = await Promise.all(rs.map((r) => r.openMemory('segment')));
    expect(results.filter((r) => r.created)).to.have.length(1);
    expect(results.map((r) => r.seen)).to.deep.equal([4242, 4242, 4242, 4242, 4242]);
    expect(inits.value.value).to.equal(1);
    await inits.close();
  });

  for (const kind of ['mutex', 'counter'] as const) {
    it(`has exactly one creator of a named ${kind} when 5 apartments race to open it`, async () => {
      const rs = await racers(5);
      const created = await Promise.all(rs.map((r) => r.openNamed(kind, `race-${kind}`)));
      expect(created.filter((c) => c)).to.have.length(1);
      await Promise.all(rs.map((r) => r.closeNamed()));
      expect(rt!.isNamedOpen(`race-${kind}`)).to.equal(false);
    });
  }

  it('gives the racers one mutex and one counter: all their updates land', async () => {
    const rs = await racers(5);
    await Promise.all(rs.flatMap((r) => [r.openNamed('mutex', 'race-lock'), r.openNamed('counter', 'race-count')]));
    const cell = new SharedArrayBuffer(4);
    const rounds = await Promise.all(rs.map((r) => r.useNamed('race-lock', 'race-count', cell)));
    expect(new Int32Array(cell)[0]).to.equal(rounds.reduce((a, b) => a + b));
    const count = await named.counter('race-count');
    expect(count.created).to.equal(false);
    expect(count.value.value).to.equal(5);
    await count.close();
    await Promise.all(rs.map((r) => r.closeNamed()));
    expect(rt!.isNamedOpen('race-lock')).to.equal(false);
  });

  it('shares one mutex and one counter by name between the host and apartments', async () => {
    ({ rt } = await startRuntime());
    const a = await named.counter('hits');
    const b = await named.counter('hits');
    expect(a.created).to.equal(true);
    expect(b.created).to.equal(false);
    a.value.add(2);
    expect(b.value.value).to.equal(2);
    await a.close();
    expect(rt.isNamedOpen('hits')).to.equal(true);
    await b.close();
    expect(rt.isNamedOpen('hits')).to.equal(false);
    const m = await named.mutex('door', { level: 1 });
    const g = await m.value.lock();
    g.unlock();
    await m.close();
  });

  it('refuses the same name as another kind or size', async () => {
    ({ rt } = await startRuntime());
    const c = await named.counter('thing');
    expect(await named.memory('thing', 4).catch((e: unknown) => e)).to.be.instanceOf(InvalidArgumentError);
    await c.close();
  });

  it('refuses an init that is not a function with InvalidArgumentError, before it opens, for the creator and an opener alike', async () => {
    ({ rt } = await startRuntime());
    // Before: the creator failed with a TypeError once it held the memory, and an opener was not told at all.
    const creator = await named.memory('filled', 8, 5 as never).catch((e: unknown) => e);
    expect(creator).to.be.instanceOf(InvalidArgumentError);
    expect((creator as Error).message).to.match(/^\[named-init\]/);
    expect(rt.isNamedOpen('filled'), 'nothing was opened').to.equal(false);
    const held = await named.memory('filled', 8, (m) => {
      new Uint8Array(m).fill(7);
    });
    expect(await named.memory('filled', 8, 'fill' as never).catch((e: unknown) => e), 'an opener').to.be.instanceOf(InvalidArgumentError);
    expect(new Uint8Array(held.value)[0]).to.equal(7);
    await held.close();
    expect(rt.isNamedOpen('filled')).to.equal(false);
  });

  it('closes the handles of an apartment that dies', async () => {
    const [r] = await racers(1);
    await r!.openMemory('orphan');
    expect(rt!.isNamedOpen('orphan')).to.equal(true);
    await rt!.apartments[0]!.terminate();
    await eventually(() => {
      expect(rt!.isNamedOpen('orphan')).to.equal(false);
    });
  });
});

describe('lib/shared-state: once()', () => {
  it('builds exactly once while 5 apartments race, and all get the same value', async () => {
    const rs = await racers(5);
    const builds = new AtomicCounter();
    const values = await Promise.all(rs.map((r) => r.buildOnce('config', builds)));
    expect(builds.value).to.equal(1);
    expect(new Set(values).size).to.equal(1);
  });

  it('refuses a factory that is not a function with InvalidArgumentError, before it asks to build', async () => {
    ({ rt } = await startRuntime());
    // Before: given the build, it failed with a TypeError (and failed it for every waiter).
    const err = await once('limit', 5 as never).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(InvalidArgumentError);
    expect((err as Error).message).to.match(/^\[once\]/);
    expect(await once('limit', () => 7), 'the name was not taken by the refused call').to.equal(7);
  });

  it('refuses a value heavier than a create-once value may be with MarshalError [value-too-large], and the name stays free', async () => {
    ({ rt } = await startRuntime());
    const err = await once('too-large', () => new Uint8Array(MAX_ONCE_VALUE_BYTES)).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(MarshalError);
    expect((err as Error).message).to.match(/^\[value-too-large\] the value built for once\('too-large'\)/);
    expect(await once('too-large', () => 'small'), 'the refused build passed on').to.equal('small');
  });

  it('gives a pooled apartment\'s next owner the whole quota: what an earlier owner built does not count against it', async () => {
    ({ rt } = await startRuntime());
    rt.registerClass('Racer', { module: fixture('shared-state-classes.js'), export: 'Racer' });
    const pool = rt.createPool({ size: 1 });
    const chunk = 3 * 2 ** 20;
    const most = Math.ceil(MAX_ONCE_BUILT_BYTES / chunk) + 1;
    const first = await pool.checkout();
    const used = await (await first.createObject<Racer>('Racer')).buildOncesUntilRefused('first-owner', chunk, most);
    expect(used.refusal, 'the first owner used up the quota').to.match(/^\[once-quota\]/);
    const id = first.id;
    await first.checkin();
    const next = await pool.checkout();
    expect(next.id, 'the same apartment, reset').to.equal(id);
    // Before: the reset kept the first owner's count, and the next owner's first build was refused.
    const fresh = await (await next.createObject<Racer>('Racer')).buildOncesUntilRefused('next-owner', chunk, 1);
    expect(fresh).to.deep.equal({ built: 1, refusal: undefined });
    await next.checkin();
  });
});

describe('lib/shared-state: named objects from free-pool threads', () => {
  it('opens the same named mutex, memory and counter from pool threads as from the host', async () => {
    ({ rt } = await startRuntime({ freePoolSize: 2 }));
    rt.registerClass('PoolLocker', { module: fixture('shared-state-classes.js'), export: 'PoolLocker' });
    // The host creates the segment first (zeroed by its creator), as the seed document's first process does.
    const lock = await named.mutex('pool-lock');
    const memory = await named.memory('pool-memory', 4, (sab) => {
      new Int32Array(sab).fill(0);
    });
    const calls = await named.counter('pool-calls');
    const pool = await rt.createObject<Remote<PoolLocker>>('PoolLocker');
    const ran = await Promise.all(Array.from({ length: 4 }, () => pool.countInNamed(10)));
    expect(ran.map((r) => r.kind)).to.deep.equal(['pool', 'pool', 'pool', 'pool']);
    expect(new Set(ran.map((r) => r.thread)).size).to.equal(2);
    expect(new Int32Array(memory.value)[0]).to.equal(40);
    expect(calls.value.value).to.equal(4);
    await Promise.all([lock.close(), memory.close(), calls.close()]);
    for (const name of ['pool-lock', 'pool-memory', 'pool-calls']) expect(rt.isNamedOpen(name), name).to.equal(false);
  });
});
