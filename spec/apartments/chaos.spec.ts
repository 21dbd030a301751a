import { expect } from 'chai';
import {
  ApartmentFaultedError, CallRejectedError, CallTimeoutError, DisconnectedError, callOptions, release, type Apartment, type Remote, type Runtime,
} from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import type { Crasher, Janitor } from '../fixtures/crasher.js';
import type { Holder } from '../fixtures/holder.js';
import { eventually, expectNoExports, startRuntime } from '../fixtures/runtime-fixture.js';
import { seededRandom } from '../fixtures/seeded-random.js';

let rt: Runtime;

/** What one operation may legitimately fail with, besides succeeding. */
interface Op {
  /** Apartments the call touches (its target, and where its arguments or kept references live). */
  involves: Set<number>;
  /** It is meant to time out (hang with a short deadline). */
  timesOut?: boolean;
  /** It goes to a crasher, whose queue the floods fill: it may be refused with retry-later. */
  refusable?: boolean;
}

const APARTMENTS = 6;

describe('apartments/chaos: mixed calls across six apartments while they busy-loop, crash, time out and are flooded', () => {
  it('settles every call, leaves every surviving apartment responsive and every export table empty', async () => {
    ({ rt } = await startRuntime());
    const seed = 20261202;
    const rnd = seededRandom(seed);
    const pickIndex = (n: number): number => Math.floor(rnd() * n);
    const limits = { maxQueuedPerObject: 40, overrunGraceMs: 200 };
    const apts: Apartment[] = [];
    for (let i = 0; i < APARTMENTS; i++) apts.push(await rt.createApartment({ name: `chaos-${i}`, callLimits: limits }));
    const calcs: Remote<Calc>[] = [];
    const holders: Remote<Holder>[] = [];
    const crashers: Remote<Crasher>[] = [];
    for (const a of apts) {
      calcs.push(await a.createObject<Calc>('Calc'));
      holders.push(await a.createObject<Holder>('Holder'));
      crashers.push(await a.createObject<Crasher>('Crasher'));
    }
    const home = new Map<unknown, number>();
    apts.forEach((a, i) => {
      for (const p of [calcs[i], holders[i], crashers[i]]) home.set(p, a.id);
    });
    // Which calc each holder keeps (one each, given below), for what its callKept involves.
    const kept: number[] = [];
    for (let i = 0; i < APARTMENTS; i++) {
      kept.push(pickIndex(APARTMENTS));
      await holders[i]!.keep(calcs[kept[i]!]);
    }
    // Two apartments crash part-way through, at fixed points of the run.
    const victims = new Map<number, number>([[150, 4], [300, 5]]);
    const crashed = new Set<number>();

    const unexpected: unknown[] = [];
    const outcomes = { ok: 0, timedOut: 0, refused: 0, faulted: 0 };
    const ops: Promise<unknown>[] = [];
    const expectedFailure = (e: unknown, op: Op): boolean => {
      if (op.timesOut && e instanceof CallTimeoutError) return true;
      if (op.refusable && e instanceof CallRejectedError && e.code === 'RPC_E_SERVERCALL_RETRYLATER') return true;
      const touchesCrash = [...op.involves].some((id) => crashed.has(id));
      return touchesCrash && (e instanceof ApartmentFaultedError || e instanceof DisconnectedError);
    };
    const track = (p: Promise<unknown>, op: Op): void => {
      ops.push(p.then(() => outcomes.ok++, (e: unknown) => {
        if (!expectedFailure(e, op)) unexpected.push({ op: { ...op, involves: [...op.involves] }, error: String((e as Error)?.stack ?? e) });
        else if (e instanceof CallTimeoutError) outcomes.timedOut++;
        else if (e instanceof CallRejectedError) outcomes.refused++;
        else outcomes.faulted++;
      }));
    };

    for (let step = 0; step < 450; step++) {
      const victim = victims.get(step);
      if (victim !== undefined) {
        // Known as crashed from now on: the calls already in flight to it may fail too.
        crashed.add(apts[victim]!.id);
        track(crashers[victim]!.exit(3), { involves: new Set([apts[victim]!.id]) });
      }
      const i = pickIndex(APARTMENTS);
      const id = apts[i]!.id;
      const r = rnd();
      if (r < 0.3) {
        track(calcs[i]!.add(1), { involves: new Set([id]) });
      } else if (r < 0.45) {
        track(calcs[i]!.callBack((x: number) => x + 1, step), { involves: new Set([id]) });
      } else if (r < 0.6) {
        track(holders[i]!.callKept(0, 'add', 1), { involves: new Set([id, apts[kept[i]!]!.id]) });
      } else if (r < 0.7) {
        const j = pickIndex(APARTMENTS);
        track(holders[i]!.same(calcs[j], calcs[j]), { involves: new Set([id, apts[j]!.id]) });
      } else if (r < 0.8) {
        // Times out: its object's turn is handed on after the overrun grace.
        track(crashers[i]!.hang(callOptions({ timeoutMs: 20 + pickIndex(60) })), { involves: new Set([id]), timesOut: true, refusable: true });
      } else if (r < 0.9) {
        // A synchronous busy loop: the whole apartment serves nothing else meanwhile.
        track(crashers[i]!.spin(pickIndex(40)), { involves: new Set([id]), refusable: true });
      } else {
        // A flood at one object: past its queue limit, calls are refused at once.
        for (let k = 0; k < 120; k++) track(crashers[i]!.take('x'.repeat(256)), { involves: new Set([id]), refusable: true });
      }
      if (step % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(ops);
    expect(unexpected, `seed ${seed}`).to.deep.equal([]);
    expect(outcomes.timedOut, 'calls timed out').to.be.greaterThan(0);
    expect(outcomes.refused, 'calls refused by a full queue').to.be.greaterThan(0);
    expect(outcomes.faulted, 'calls failed by a crash').to.be.greaterThan(0);
    expect(rt.stats().pendingCalls, 'host calls still pending').to.equal(0);

    const survivors = apts.filter((a) => a.state === 'ready');
    expect(survivors.map((a) => a.name)).to.deep.equal(['chaos-0', 'chaos-1', 'chaos-2', 'chaos-3']);
    // Responsive: a call that takes each object's turn completes within the runtime's deadline,
    // even on the crashers whose hung calls still run (their turns were handed on).
    for (let i = 0; i < survivors.length; i++) {
      expect(await calcs[i]!.value()).to.be.a('number');
      expect(await crashers[i]!.take('ok')).to.equal(2);
    }

    for (let i = 0; i < survivors.length; i++) await holders[i]!.releaseAll();
    for (const p of [...calcs, ...holders, ...crashers]) release(p);
    const janitors = await Promise.all(survivors.map((a) => a.createObject<Janitor>('Janitor')));
    await eventually(async () => {
      for (const j of janitors) expect(await j.collect()).to.equal(true);
      globalThis.gc!();
      for (const a of survivors) expect((await a.stats()).exports, `${a.label} exports (its Janitor only)`).to.equal(1);
    }, 60_000);
    for (const j of janitors) release(j);
    await expectNoExports(rt);
  });
});
