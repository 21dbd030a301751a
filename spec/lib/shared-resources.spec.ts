import { expect } from 'chai';
import { CallTimeoutError, DisconnectedError, release, type Runtime, type SharedResourceDefinition } from '../../lib/index.js';
import { SharedResourceRegistry } from '../../lib/shared-resources.js';
import { eventually, expectNoExports, fixture, startRuntime } from '../fixtures/runtime-fixture.js';
import { expectUnknownOption, refusal } from '../fixtures/option-refusals.js';

let rt: Runtime | undefined;

type User = {
  useAndRelease(name: string, rounds: number): Promise<number>;
  releaseOneOfTwo(name: string): Promise<number>;
  acquireAndKeep(name: string): Promise<number>;
  valueOf(name: string): Promise<unknown>;
};

/** A resource that counts creations and disposals, and records (and refuses) any use after disposal. */
type Counted = { disposed: boolean; use(): number };
function countingResource(log: string[]): SharedResourceDefinition<Counted> {
  let made = 0;
  return {
    create: () => {
      const id = ++made;
      log.push(`create ${id}`);
      const res: Counted = { disposed: false, use: () => {
        if (res.disposed) {
          log.push(`use after dispose of ${id}`);
          throw new Error(`resource ${id} used after dispose`);
        }
        return 1;
      } };
      return res;
    },
    dispose: (v) => {
      v.disposed = true;
      log.push('dispose');
    },
  };
}

describe('lib/shared-resources: disposed only after every apartment released it', () => {
  it('survives releases racing from many apartments, two leases at a time in each: never used after disposal', async () => {
    ({ rt } = await startRuntime());
    rt.registerClass('SharedUser', { module: fixture('shared-user.js'), export: 'SharedUser' });
    const log: string[] = [];
    rt.defineSharedResource('dictionary', countingResource(log));
    const users = await Promise.all([1, 2, 3, 4].map(async () => (await rt!.createApartment()).createObject<User>('SharedUser')));
    // Each apartment runs two overlapping loops of 10 leases, two uses per lease.
    const totals = await Promise.all(users.map((u) => u.useAndRelease('dictionary', 10).catch((e: unknown) => e)));
    expect(totals).to.deep.equal([40, 40, 40, 40]);
    expect(log.filter((l) => l.startsWith('use after dispose')), 'uses of a disposed resource').to.deep.equal([]);
    await eventually(() => {
      expect(rt!.sharedLeases('dictionary')).to.equal(0);
      expect(log.filter((l) => l === 'dispose').length).to.equal(log.filter((l) => l.startsWith('create')).length);
    });
    expect(log.at(-1)).to.equal('dispose');
  });

  it('keeps the resource usable through a second lease after the first one in the same apartment is released', async () => {
    ({ rt } = await startRuntime());
    rt.registerClass('SharedUser', { module: fixture('shared-user.js'), export: 'SharedUser' });
    const log: string[] = [];
    rt.defineSharedResource('model', countingResource(log));
    const user = await (await rt.createApartment()).createObject<User>('SharedUser');
    expect(await user.releaseOneOfTwo('model').catch((e: unknown) => e)).to.equal(3);
    await eventually(() => {
      expect(rt!.sharedLeases('model')).to.equal(0);
    });
    expect(log).to.deep.equal(['create 1', 'dispose']);
    release(user);
    await expectNoExports(rt);
  });

  it('ends the leases of an apartment that dies, then disposes', async () => {
    ({ rt } = await startRuntime());
    rt.registerClass('SharedUser', { module: fixture('shared-user.js'), export: 'SharedUser' });
    const log: string[] = [];
    rt.defineSharedResource('conn', countingResource(log));
    const host = await rt.acquireShared<{ use(): number }>('conn');
    const apt = await rt.createApartment();
    const user = await apt.createObject<User>('SharedUser');
    expect(await user.acquireAndKeep('conn')).to.equal(1);
    expect(rt.sharedLeases('conn')).to.equal(2);
    await apt.terminate();
    await eventually(() => {
      expect(rt!.sharedLeases('conn')).to.equal(1);
    });
    expect(log).to.deep.equal(['create 1']);
    expect(host.value.use()).to.equal(1);
    await host.release();
    expect(log).to.deep.equal(['create 1', 'dispose']);
    expect(() => host.value).to.throw(DisconnectedError, /shared-released/);
  });

  it('refuses unknown names and duplicate definitions', async () => {
    ({ rt } = await startRuntime());
    rt.defineSharedResource('x', { create: () => ({}), dispose: () => {} });
    expect(() => rt!.defineSharedResource('x', { create: () => ({}), dispose: () => {} })).to.throw(/shared-exists/);
    expect(await rt.acquireShared('nope').catch((e: unknown) => e)).to.have.property('code', 'REGDB_E_CLASSNOTREG');
  });

  it('refuses a definition with a key it does not read, and defines nothing under that name', async () => {
    ({ rt } = await startRuntime());
    // Before: defined, and the misspelt hook never ran.
    const err = await refusal(() => rt!.defineSharedResource('db', { create: () => ({}), dispose: () => {}, disposeTimeoutMs: 5 } as never));
    expectUnknownOption(err, 'disposeTimeoutMs', "shared resource 'db'", undefined);
    rt.defineSharedResource('db', { create: () => ({}), dispose: () => {} });
    const lease = await rt.acquireShared('db');
    await lease.release();
  });
});

describe('lib/shared-resources: a runtime that was closed', () => {
  it('leases and defines nothing more, so no resource is made that nobody would dispose', async () => {
    const log: string[] = [];
    const { rt: closed } = await startRuntime();
    closed.defineSharedResource('late', countingResource(log));
    await closed.close();
    // Before: the lease was granted and the resource made on a thread that was no apartment any more.
    const refused = await closed.acquireShared('late').catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(DisconnectedError);
    expect((refused as Error).message).to.match(/^\[runtime-closed\]/);
    expect(() => closed.defineSharedResource('later', countingResource(log))).to.throw(DisconnectedError, /^\[runtime-closed\]/);
    expect(log, 'nothing was created').to.deep.equal([]);
    expect(closed.sharedLeases('late')).to.equal(0);
    ({ rt } = await startRuntime());
    rt.defineSharedResource('late', countingResource(log));
    const lease = await rt.acquireShared<Counted>('late');
    expect(lease.value.use()).to.equal(1);
    await lease.release();
    expect(log).to.deep.equal(['create 1', 'dispose']);
  });
});

describe('lib/shared-resources: close() ends the leases still held', () => {
  it("disposes what the host and an apartment still lease, before close() settles; the host's late release is a no-op", async () => {
    const log: string[] = [];
    const { rt: closing } = await startRuntime();
    closing.registerClass('SharedUser', { module: fixture('shared-user.js'), export: 'SharedUser' });
    closing.defineSharedResource('held-by-host', countingResource(log));
    closing.defineSharedResource('held-by-both', countingResource(log));
    const lease = await closing.acquireShared<Counted>('held-by-host');
    await closing.acquireShared<Counted>('held-by-both');
    const user = await (await closing.createApartment()).createObject<User>('SharedUser');
    expect(await user.acquireAndKeep('held-by-both')).to.equal(1);
    // Before: the host's leases outlived close(), and a resource holding a timer kept the process alive.
    await closing.close();
    expect(log.filter((l) => l === 'dispose'), 'both resources were disposed by close()').to.have.length(2);
    expect(closing.sharedLeases('held-by-host')).to.equal(0);
    expect(closing.sharedLeases('held-by-both')).to.equal(0);
    await lease.release();
    expect(log.filter((l) => l === 'dispose'), 'and not again by the late release').to.have.length(2);
  });

  it('settles though a dispose never does, and says which resource it left disposing', async () => {
    const { rt: closing, logs } = await startRuntime();
    closing.defineSharedResource('stuck', { create: () => ({}), dispose: () => new Promise<void>(() => {}) });
    await closing.acquireShared('stuck');
    await closing.close();
    expect(logs.some((e) => e.message.startsWith('[shared-dispose]') && e.message.includes("'stuck'")), 'the stuck dispose is reported').to.equal(true);
  });
});

describe('lib/shared-resources: a resource that is a plain value', () => {
  it('reaches a worker apartment as that value, and its lease is given back', async () => {
    ({ rt } = await startRuntime());
    rt.registerClass('SharedUser', { module: fixture('shared-user.js'), export: 'SharedUser' });
    const disposed: unknown[] = [];
    rt.defineSharedResource('limit', { create: () => 42, dispose: (v) => void disposed.push(v) });
    const user = await (await rt.createApartment()).createObject<User>('SharedUser');
    // Before: byRef(42) failed the acquire after its lease was taken, and the lease stayed.
    expect(await user.valueOf('limit')).to.equal(42);
    await eventually(() => {
      expect(rt!.sharedLeases('limit')).to.equal(0);
      expect(disposed).to.deep.equal([42]);
    });
  });
});

describe('lib/shared-resources: an apartment that dies while it waits for a dispose takes no lease', () => {
  it('refuses the wait of a gone apartment, so nothing is created again nor left undisposed', async () => {
    const live = new Set([1, 2]);
    const registry = new SharedResourceRegistry(() => undefined, (apartment) => live.has(apartment));
    const log: string[] = [];
    let finishDispose: (() => void) | undefined;
    registry.define('slow', {
      create: () => {
        log.push('create');
        return {};
      },
      dispose: () => new Promise<void>((resolve) => (finishDispose = () => {
        log.push('dispose');
        resolve();
      })),
    });
    const { lease } = await registry.acquire('slow', 1);
    const disposing = registry.release(lease, 1);
    const waiting = registry.acquire('slow', 2).then(() => 'leased', (err: unknown) => err as Error);
    live.delete(2);
    registry.dropApartment(2);
    while (!finishDispose) await new Promise((r) => setImmediate(r));
    finishDispose();
    await disposing;
    // Before: the gone apartment's lease was added after the dispose, the resource created again,
    // and nobody was left to release it.
    const outcome = await waiting;
    expect(outcome, String(outcome)).to.be.instanceOf(DisconnectedError);
    expect((outcome as Error).message).to.match(/^\[shared-gone\]/);
    expect(registry.leases('slow')).to.equal(0);
    expect(log).to.deep.equal(['create', 'dispose']);
  });
});

describe('lib/shared-resources: an acquire whose caller gave up before the resource was made', () => {
  it('gives its lease back once the resource is made, so the resource is disposed', async () => {
    ({ rt } = await startRuntime());
    rt.registerClass('SharedUser', { module: fixture('shared-user.js'), export: 'SharedUser' });
    const log: string[] = [];
    let creating!: () => void;
    const createStarted = new Promise<void>((resolve) => (creating = resolve));
    let finishCreate!: () => void;
    const created = new Promise<void>((resolve) => (finishCreate = resolve));
    rt.defineSharedResource('slow-model', {
      create: async () => {
        creating();
        await created;
        log.push('create');
        return { use: () => 1 };
      },
      dispose: () => {
        log.push('dispose');
      },
    });
    // Calls made from this apartment (its acquire) give up after 200 ms; the resource is made only after that.
    const user = await (await rt.createApartment({ defaultTimeoutMs: 200 })).createObject<User>('SharedUser');
    const outcome = user.acquireAndKeep('slow-model').then(() => 'acquired', (err: unknown) => (err as Error).constructor.name);
    await createStarted;
    expect(await outcome).to.equal('CallTimeoutError');
    finishCreate();
    // Before: the lease stayed counted for the apartment, which never heard of it, and the
    // resource lived until the apartment ended.
    await eventually(() => {
      expect(log).to.deep.equal(['create', 'dispose']);
    });
    expect(rt.sharedLeases('slow-model')).to.equal(0);
  });
});

// The host's acquire makes no call, so nothing ended its wait for a create() that never settled;
// an apartment's acquire failed at its deadline, but its lease stayed counted until the apartment ended.
describe('lib/shared-resources: a create() that never settles', () => {
  it("fails the host's acquire with CallTimeoutError at the main apartment's deadline, and an apartment's keeps no lease", async () => {
    ({ rt } = await startRuntime({ defaultTimeoutMs: 5_000 }));
    rt.registerClass('SharedUser', { module: fixture('shared-user.js'), export: 'SharedUser' });
    rt.defineSharedResource('never-made', { create: () => new Promise<never>(() => {}), dispose: () => undefined });
    const user = await (await rt.createApartment()).createObject<User>('SharedUser');
    const [host, apartment] = await Promise.all([
      rt.acquireShared('never-made').then(() => undefined, (e: unknown) => e),
      user.acquireAndKeep('never-made').then(() => undefined, (e: unknown) => e),
    ]);
    expect(host).to.be.instanceOf(CallTimeoutError);
    expect((host as Error).message).to.match(/^\[shared-timeout\] shared resource 'never-made' was not ready within 5000 ms/);
    expect(apartment).to.be.instanceOf(CallTimeoutError);
    await eventually(() => {
      expect(rt!.sharedLeases('never-made'), 'the apartment that gave up holds no lease').to.equal(0);
    }, 60_000);
  });
});

// Before, the create() that never settled stayed the resource's for good once its last waiter gave
// up: every later acquire waited for it again and failed at its deadline.
describe('lib/shared-resources: a create() that never settles, once nobody waits for it', () => {
  it('is abandoned: the next acquire creates afresh, and what the abandoned create() makes late is disposed', async () => {
    const { rt: started, logs } = await startRuntime({ defaultTimeoutMs: 5_000 });
    rt = started;
    rt.registerClass('SharedUser', { module: fixture('shared-user.js'), export: 'SharedUser' });
    const log: string[] = [];
    let makeFirst!: (made: { id: number; use(): number }) => void;
    let creates = 0;
    rt.defineSharedResource<{ id: number; use(): number }>('stuck-first', {
      create: () => {
        const id = ++creates;
        log.push(`create ${id}`);
        if (id === 1) return new Promise((resolve) => (makeFirst = resolve));
        return { id, use: () => id };
      },
      dispose: (made) => {
        log.push(`dispose ${made.id}`);
      },
    });
    const user = await (await rt.createApartment()).createObject<User>('SharedUser');
    expect(await user.acquireAndKeep('stuck-first').catch((e: unknown) => e)).to.be.instanceOf(CallTimeoutError);
    await eventually(() => {
      expect(rt!.sharedLeases('stuck-first'), 'the apartment that gave up holds no lease').to.equal(0);
    }, 60_000);
    const lease = await rt.acquireShared<{ id: number; use(): number }>('stuck-first');
    expect(lease.value.id, 'made by a fresh create()').to.equal(2);
    expect(await user.acquireAndKeep('stuck-first'), 'the apartment shares the fresh one').to.equal(2);
    expect(logs.some((l) => l.message.startsWith("[shared-abandoned] create() of shared resource 'stuck-first' had not settled")), 'the abandonment was reported').to.equal(true);
    makeFirst({ id: 1, use: () => 1 });
    await eventually(() => {
      expect(log, 'the late resource was disposed, the leased one kept').to.deep.equal(['create 1', 'create 2', 'dispose 1']);
    }, 60_000);
    await lease.release();
  });
});
