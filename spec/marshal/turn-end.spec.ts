import { AsyncLocalStorage } from 'node:async_hooks';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { expect } from 'chai';
import { atTurnEnd } from '../../marshal/turn-end.js';

describe('marshal/turn-end: the work of a turn\'s end', () => {
  it('runs after the synchronous code, in the order it was asked for, before the next macrotask', async () => {
    const seen: string[] = [];
    const macrotask = new Promise<void>((resolve) => setImmediate(() => {
      seen.push('macrotask');
      resolve();
    }));
    atTurnEnd(() => seen.push('first'));
    atTurnEnd(() => seen.push('second'));
    seen.push('sync');
    await macrotask;
    expect(seen).to.deep.equal(['sync', 'first', 'second', 'macrotask']);
  });

  it('runs work asked for while it runs in the same run, and a later turn\'s work in a run of its own', async () => {
    const seen: string[] = [];
    atTurnEnd(() => {
      seen.push('first');
      atTurnEnd(() => seen.push('added by the first'));
    });
    const microtaskBetween = Promise.resolve().then(() => seen.push('a microtask queued after the first'));
    await microtaskBetween;
    await new Promise((resolve) => setImmediate(resolve));
    atTurnEnd(() => seen.push('next turn'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).to.deep.equal(['first', 'added by the first', 'a microtask queued after the first', 'next turn']);
  });
});

describe('marshal/turn-end: the async context the work runs in', () => {
  it('is none of the code that asked for it, so what the work starts does not inherit a caller\'s context', async () => {
    const als = new AsyncLocalStorage<string>();
    let during: string | undefined = 'not run';
    let started: string | undefined = 'not run';
    als.run('the served call', () => atTurnEnd(() => {
      during = als.getStore();
      process.nextTick(() => {
        started = als.getStore();
      });
    }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(during).to.equal(undefined);
    expect(started).to.equal(undefined);
  });
});

describe('marshal/turn-end: a piece that throws', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.terminate();
    worker = undefined;
  });

  it('surfaces as an uncaught error of its thread, and the rest of the turn\'s work still runs', async () => {
    worker = new Worker(new URL('./fixtures/turn-end-thrower.js', import.meta.url));
    const reported: unknown[] = [];
    worker.on('message', (m) => reported.push(m));
    const [error] = (await once(worker, 'error')) as [Error];
    expect(error.message).to.equal('end work threw');
    expect(reported).to.deep.equal(['second ran']);
  });
});
