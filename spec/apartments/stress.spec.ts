import { expect } from 'chai';
import {
  ApartmentFaultedError, CallCanceledError, DisconnectedError, callOptions, release, type Apartment, type Remote, type Runtime,
} from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import type { Crasher, Janitor } from '../fixtures/crasher.js';
import type { Holder } from '../fixtures/holder.js';
import { eventually, startRuntime } from '../fixtures/runtime-fixture.js';
import { seededRandom } from '../fixtures/seeded-random.js';

let rt: Runtime | undefined;

/**
 * Whether a failure is one this scenario causes. A call made straight to an object of the crashed
 * apartment fails with ApartmentFaultedError while the crash is not yet known to the host (it was
 * in flight), and with DisconnectedError caused by the fault once it is; a cancelled call with
 * CallCanceledError. A call to a surviving apartment fails only when that apartment itself called
 * the crashed one, in flight or later.
 */
function expectedFailure(e: unknown, op: { direct: boolean; afterFault: boolean; canceling: boolean }): boolean {
  if (op.canceling && e instanceof CallCanceledError) return true;
  const fromFault = e instanceof DisconnectedError && (e as Error).cause instanceof ApartmentFaultedError;
  if (op.direct) return op.afterFault ? fromFault : e instanceof ApartmentFaultedError;
  return e instanceof ApartmentFaultedError || fromFault;
}

describe('apartments/stress: random calls, callbacks, cancellations and a crash', () => {
  it('ends with no pending call, no leaked export and the host alive', async () => {
    ({ rt } = await startRuntime());
    const seed = 20261122;
    const rnd = seededRandom(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const apts: Apartment[] = await Promise.all([0, 1, 2, 3].map((i) => rt!.createApartment({ name: `s${i}` })));
    const victim = apts[3]!;
    const calcs: Remote<Calc>[] = [];
    const holders: Remote<Holder>[] = [];
    for (const a of apts) {
      calcs.push(await a.createObject<Calc>('Calc'));
      holders.push(await a.createObject<Holder>('Holder'));
    }
    const onVictim = new Set<unknown>([calcs[3], holders[3]]);
    for (const h of holders) await h.keep(pick(calcs));
    const crasher = await victim.createObject<Crasher>('Crasher');
    const unexpected: unknown[] = [];
    const ops: Promise<unknown>[] = [];
    let callbacks = 0;
    let canceled = 0;
    let crash: Promise<unknown> | undefined;
    for (let i = 0; i < 400; i++) {
      if (i === 200) crash = crasher.exit(7).catch((e: unknown) => e);
      const r = rnd();
      let p: Promise<unknown>;
      let target: unknown;
      let canceling = false;
      const afterFault = victim.state === 'faulted';
      if (r < 0.3) p = (target = pick(calcs)).add(1);
      else if (r < 0.5) p = (target = pick(calcs)).callBack((x: number) => ++callbacks + x, i);
      else if (r < 0.65) p = (target = pick(holders)).keep(pick(calcs));
      else if (r < 0.8) p = (target = pick(holders)).callKept(0, 'add', 1);
      else {
        const ac = new AbortController();
        canceling = true;
        p = (target = pick(calcs)).slowAdd(1, 5, callOptions({ signal: ac.signal }));
        setTimeout(() => ac.abort(), Math.floor(rnd() * 8));
      }
      const op = { direct: onVictim.has(target), afterFault, canceling };
      ops.push(p.catch((e: unknown) => {
        if (e instanceof CallCanceledError) canceled++;
        // Failures must be the ones this scenario causes; anything else is a bug.
        if (!expectedFailure(e, op)) unexpected.push({ op, error: String((e as Error).stack ?? e) });
        return e;
      }));
      if (i % 25 === 0) await new Promise((r2) => setImmediate(r2));
    }
    await Promise.all(ops);
    // As text, so a failure shows each unexpected error's stack (a deep-equal diff elides them).
    expect(unexpected.map((u) => JSON.stringify(u, null, 1)).join('\n'), `seed ${seed}: unexpected failures`).to.equal('');
    expect(await crash, 'the crashing call itself was in flight').to.be.instanceOf(ApartmentFaultedError);
    expect(canceled, 'calls actually cancelled').to.be.greaterThan(0);
    expect(victim.state).to.equal('faulted');

    const survivors = apts.filter((a) => a.state === 'ready');
    expect(survivors).to.have.length(3);
    for (const h of holders) await h.releaseAll().catch(() => 0);
    for (const p of [...calcs, ...holders, crasher]) release(p);
    const janitors = await Promise.all(survivors.map((a) => a.createObject<Janitor>('Janitor')));
    await eventually(async () => {
      for (const j of janitors) expect(await j.collect()).to.equal(true);
      globalThis.gc!();
      expect(rt!.stats().pendingCalls).to.equal(0);
      expect(rt!.stats().exports, 'main exports').to.equal(0);
      for (const a of survivors) {
        const s = await a.stats();
        expect(s.exports, `${a.label} exports (its Janitor only)`).to.equal(1);
        expect(s.pendingCalls, `${a.label} pending calls`).to.equal(0);
      }
    }, 5_000);
    for (const j of janitors) release(j);
    const fresh = await rt.createObject<Calc>('Calc', 1);
    expect(await fresh.add(1)).to.equal(2);
  });
});
