import { expect } from 'chai';
import {
  ApartmentError, AtomicCounter, AtomicRefCount, CallTimeoutError, InvalidArgumentError, NonAtomicCount, type Remote,
} from '../../../lib/index.js';
import type { Racer } from '../../fixtures/shared-state-classes.js';
import { startRacers } from './racers.js';

async function racers(n: number): Promise<Remote<Racer>[]> {
  return (await startRacers(n)).racers;
}

describe('lib/shared-state: reference counts released by 4 apartments at once', () => {
  const RACERS = 4;
  const TIMES = 1_000;
  const START = RACERS * TIMES;

  it('keeps the atomic count exact, and refuses to release below zero', async () => {
    const rs = await racers(RACERS);
    // Many more releases than the plain count gets, so the threads surely overlap.
    const count = new AtomicRefCount(START * 50);
    await Promise.all(rs.map((r) => r.release(count, TIMES * 50)));
    expect(count.value).to.equal(0);
    expect(() => count.release()).to.throw(ApartmentError, /ref-count-negative/);
    expect(count.addRef()).to.equal(1);
    expect(new AtomicCounter().add(3)).to.equal(3);
  });

  it('loses decrements with the plain read-then-write count: each round of 4 releases lowers it by only 1', async () => {
    const rs = await racers(RACERS);
    // Every release reads, then waits until all 4 racers have read, then writes: the document's schedule.
    const count = new NonAtomicCount(START, { racers: RACERS });
    await Promise.all(rs.map((r) => r.release(count, TIMES)));
    expect(count.value, 'releases lost').to.equal(START - TIMES);
  });
});

describe('lib/shared-state: the teaching count refuses misuse', () => {
  it('refuses a racer count that is not a whole number ≥ 1', () => {
    expect(() => new NonAtomicCount(1, { racers: 0 })).to.throw(InvalidArgumentError, /\[racers\]/);
    expect(() => new NonAtomicCount(1, { racers: 2, waitMs: -1 })).to.throw(InvalidArgumentError, /waitMs/);
  });

  it('refuses to block the main thread waiting for racers', () => {
    expect(() => new NonAtomicCount(2, { racers: 2 }).release()).to.throw(ApartmentError, /racers-main/);
  });

  it('times out when the other racers never release', async () => {
    const [r] = await racers(1);
    const err = await r!.release(new NonAtomicCount(2, { racers: 2, waitMs: 50 }), 1).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CallTimeoutError);
    expect((err as Error).message).to.contain('[racers-timeout]');
  });
});
