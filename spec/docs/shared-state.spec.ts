// The examples of docs/shared-state.md, run. Every ```ts block of that page must appear here, in
// the shared-state fixtures or in the lost-decrement demo (the last describe checks that), so the
// page cannot drift from code that runs.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as api from '../../lib/index.js';
import { LockOrderError, SharedMutex, named, once, type Remote } from '../../lib/index.js';
import type { Racer, SegmentUser } from '../fixtures/shared-state-classes.js';
import { startRuntime } from '../fixtures/runtime-fixture.js';

const source = (path: string): string => readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8');

describe('docs/shared-state: SharedMutex example', () => {
  it('shares one lock between the host and an apartment; no update is lost', async () => {
    const { rt } = await startRuntime();
    rt.registerClass('Racer', { module: new URL('../fixtures/shared-state-classes.js', import.meta.url), export: 'Racer' });
    const racer = await (await rt.createApartment()).createObject<Remote<Racer>>('Racer');
    const mutex = new SharedMutex({ name: 'cell' });
    const cell = new SharedArrayBuffer(4);
    const working = racer.hammer(mutex, cell, 10); // the mutex arrives in the apartment as the same lock
    for (let i = 0; i < 10; i++) {
      using _guard = await mutex.lock({ timeoutMs: 1_000 }); // Atomics.waitAsync: the event loop keeps running
      const view = new Int32Array(cell);
      view[0] = view[0]! + 1;
    } // each turn's guard is released at the end of its block (or call guard.unlock(), once)
    await working;
    expect(new Int32Array(cell)[0]).to.equal(20);
  });
});

describe('docs/shared-state: lock hierarchy example', () => {
  it('allows 1 then 2, and refuses 1 while holding 2, at the second lock', async () => {
    await startRuntime();
    const accounts = new SharedMutex({ name: 'accounts', level: 1 });
    const audit = new SharedMutex({ name: 'audit', level: 2 });
    {
      using _a = await accounts.lock(); // fine: level 1, then level 2
      using _b = await audit.lock();
    }
    const refused = await (async () => {
      using _b = await audit.lock();
      await accounts.lock(); // LockOrderError: taking 'accounts' (level 1) while holding 'audit' (level 2)
    })().catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(LockOrderError);
    expect((refused as Error).message).to.contain("taking 'accounts' (level 1) while holding 'audit' (level 2)");
  });
});

describe('docs/shared-state: shared memory guarded by a named global mutex', () => {
  it('has one creator that zeroes the segment, and every update made under the mutex lands', async () => {
    const { rt } = await startRuntime();
    rt.registerClass('SegmentUser', { module: new URL('../fixtures/shared-state-classes.js', import.meta.url), export: 'SegmentUser' });
    const users = await Promise.all([1, 2, 3].map(async () => (await rt.createApartment()).createObject<Remote<SegmentUser>>('SegmentUser')));
    const created = await Promise.all(users.map((user) => user.open())); // they race: exactly one creates
    await Promise.all(users.flatMap((user) => [user.visit(), user.visit()]));
    const lock = await named.mutex('stats-lock');
    const stats = await named.memory('stats', 8); // the host opens the same segment
    {
      using _held = await lock.value.lock();
      const [userCount, visits] = new Int32Array(stats.value); // 3 users, 6 visits
      expect([userCount, visits]).to.deep.equal([3, 6]);
    }
    await Promise.all(users.map((user) => user.close()));
    await Promise.all([lock.close(), stats.close()]); // the last close releases them
    expect(created.filter((c) => c)).to.have.length(1);
    expect(rt.isNamedOpen('stats')).to.equal(false);
  });
});

describe('docs/shared-state: once example', () => {
  it('builds once and hands every caller the same value', async () => {
    await startRuntime();
    const config = await once('config', () => ({ retries: 3, region: 'eu' })); // one caller builds; all get the value
    expect(config).to.deep.equal({ retries: 3, region: 'eu' });
    expect(await once('config', () => ({ retries: 0, region: 'never built' }))).to.deep.equal(config);
  });
});

describe('docs/shared-state: every example on the page is code that runs', () => {
  it('finds each ts block of the page, line by line in order, in this spec, the fixtures or the demo', () => {
    const page = source('docs/shared-state.md');
    const runs = ['spec/docs/shared-state.spec.ts', 'spec/fixtures/shared-state-classes.ts', 'docs/demos/lost-decrement/main.ts'].map((p) => source(p).split('\n').map((l) => l.trim()));
    const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).to.be.at.least(5);
    for (const block of blocks) {
      const lines = block.split('\n').map((l) => l.trim()).filter((l) => l !== '' && l !== '{' && l !== '}');
      const code = lines.filter((l) => !l.startsWith('import '));
      for (const l of lines.filter((x) => x.startsWith('import '))) {
        const names = /\{(.*)\}/.exec(l)![1]!.split(',').map((n) => n.trim());
        for (const name of names.filter((n) => !n.startsWith('type '))) expect(api, l).to.have.property(name);
      }
      const found = runs.some((file) => {
        let at = 0;
        return code.every((l) => (at = file.indexOf(l, at) + 1) > 0);
      });
      expect(found, `this block is not code that runs:\n${block}`).to.equal(true);
    }
  });
});
