import { expect } from 'chai';
import { CallCanceledError, CallRejectedError, DeadlockError, callOptions, type Apartment, type Remote, type Runtime } from '../../lib/index.js';
import type { Account, Chain, Gate, Library } from '../fixtures/admission-classes.js';
import type { Holder } from '../fixtures/holder.js';
import { eventually, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

/** Wait until `apt` has `n` queued calls: the callee hears of a cancel or a caller's death after the caller's side does. */
async function queuedBecomes(apt: Apartment, n: number, why: string): Promise<void> {
  await eventually(async () => {
    expect((await apt.stats()).queuedCalls, why).to.equal(n);
  }, 60_000);
}

/** An Account in a new apartment whose first deposit has started and holds the object's turn until finishAndCheck(). */
async function accountHeld(): Promise<{ apt: Apartment; acct: Remote<Account>; gate: Int32Array; first: Promise<number> }> {
  ({ rt } = await startRuntime());
  const apt = await rt.createApartment({ name: 'callee' });
  const acct = await apt.createObject<Account>('Account');
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const first = acct.depositHeld(1, 'first', gate);
  await eventually(() => {
    expect(Atomics.load(gate, 1), 'the first deposit started').to.equal(1);
  }, 60_000);
  return { apt, acct, gate, first };
}

/** Let the held first deposit finish, make a third, and check that nothing ran between them. */
async function finishAndCheck(acct: Remote<Account>, gate: Int32Array, first: Promise<number>): Promise<void> {
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  await first;
  await acct.deposit(1, 'third');
  expect(await acct.history()).to.deep.equal(['start first', 'end first', 'start third', 'end third']);
  expect(await acct.getBalance()).to.equal(2);
}

describe('apartments/admission: causality ids follow the call chain', () => {
  it('keeps one id through awaits and across several apartments; separate calls get separate ids', async () => {
    ({ rt } = await startRuntime());
    const apts = await Promise.all([rt.createApartment(), rt.createApartment(), rt.createApartment()]);
    const chains = await Promise.all(apts.map((a) => a.createObject<Chain>('Chain')));
    const ids = await chains[0]!.hop([chains[1]!, chains[2]!], true);
    expect(ids).to.have.length(6);
    expect(new Set(ids).size).to.equal(1);
    const other = await chains[0]!.hop([chains[1]!], false);
    expect(other[0]).to.not.equal(ids[0]);
  });

  it('admits a call that comes back along its own chain (A → B → A) at once', async () => {
    ({ rt } = await startRuntime());
    const a = await rt.createApartment({ name: 'a' });
    const b = await rt.createApartment({ name: 'b' });
    const ca = await a.createObject<Chain>('Chain');
    const cb = await b.createObject<Chain>('Chain');
    expect(await ca.bounce(cb)).to.equal('back:41');
    expect(await ca.viaCallback(async () => ca.inner())).to.equal(42);
  });
});

describe('apartments/admission: turn-based by default, reentrant by choice', () => {
  it('runs unrelated calls one turn at a time, so a read-modify-write across an await is safe', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const acct = await apt.createObject<Account>('Account');
    await Promise.all([acct.deposit(10, 'a'), acct.deposit(20, 'b'), acct.deposit(30, 'c')]);
    expect(await acct.getBalance()).to.equal(60);
    expect(await acct.history()).to.deep.equal(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('shows the corruption a reentrant class allows: updates are lost', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const acct = await apt.createObject<Account>('ReentrantAccount');
    await Promise.all([acct.deposit(10, 'a'), acct.deposit(20, 'b'), acct.deposit(30, 'c')]);
    expect(await acct.getBalance()).to.be.lessThan(60);
    expect((await acct.history()).slice(0, 3)).to.deep.equal(['start a', 'start b', 'start c']);
  });

  it('makes every object of an apartment reentrant with the apartment option', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ reentrancy: 'reentrant' });
    const acct = await apt.createObject<Account>('Account');
    await Promise.all([acct.deposit(10, 'a'), acct.deposit(20, 'b')]);
    expect((await acct.history()).slice(0, 2)).to.deep.equal(['start a', 'start b']);
  });
});

describe('apartments/admission: interleave and read-only methods', () => {
  it('runs read-only calls alongside each other but never alongside a writer; interleave methods run during a turn', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const lib = await apt.createObject<Library>('Library');
    const busy = lib.write(60);
    expect(await lib.ping()).to.equal('pong');
    await Promise.all([busy, lib.read(30), lib.read(30), lib.read(30), lib.write(10), lib.read(10)]);
    const report = await lib.report();
    expect(report.maxReaders).to.be.at.least(2);
    expect(report.overlaps).to.equal(0);
  });
});

describe('apartments/admission: message filter and retry policy', () => {
  let gate: Remote<Gate>;
  beforeEach(async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ name: 'gated' });
    gate = await apt.createObject<Gate>('Gate');
  });

  it('rejects with CallRejectedError (RPC_E_CALL_REJECTED) when the filter says reject', async () => {
    await gate.install('reject');
    const err = await gate.work().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CallRejectedError);
    expect((err as CallRejectedError).code).to.equal('RPC_E_CALL_REJECTED');
  });

  it('never shows the filter a method the class lists as unfiltered', async () => {
    await gate.install('reject');
    expect(await gate.work().catch((e: unknown) => e)).to.be.instanceOf(CallRejectedError);
    expect(await gate.giveBack()).to.equal('given back');
    expect(await gate.seen()).to.deep.equal(['work:top-level']);
  });

  it('fails retry-later with RPC_E_SERVERCALL_RETRYLATER when the caller has no retry policy', async () => {
    await gate.install('retry-later');
    const err = await gate.work().catch((e: unknown) => e);
    expect((err as CallRejectedError).code).to.equal('RPC_E_SERVERCALL_RETRYLATER');
  });

  it('retries after a delay under a bounded retry policy, and gives up when it is spent', async () => {
    await gate.install('retry-twice');
    expect(await gate.work(callOptions({ retry: { attempts: 3, delayMs: 5 } }))).to.equal('done');
    expect(await gate.seen()).to.deep.equal(['work:top-level', 'work:top-level', 'work:top-level']);
    await gate.install('retry-later');
    const err = await gate.work(callOptions({ retry: { attempts: 2 } })).catch((e: unknown) => e);
    expect((err as CallRejectedError).code).to.equal('RPC_E_SERVERCALL_RETRYLATER');
  });

  it('shows the filter each category: top-level, nested, top-level-while-pending', async () => {
    const other = await (await rt!.createApartment()).createObject<Chain>('Chain');
    await gate.install('record');
    const held = new Int32Array(new SharedArrayBuffer(4));
    const holding = gate.hold(held);
    while (Atomics.load(held, 0) !== 1) await new Promise((r) => setTimeout(r, 2));
    // The filter is shown nest() as it arrives; it then waits for hold()'s turn on the object.
    const nesting = gate.nest(other);
    while (!(await gate.seen()).some((c) => c.startsWith('nest:'))) await new Promise((r) => setTimeout(r, 2));
    Atomics.store(held, 0, 2);
    Atomics.notify(held, 0);
    await Promise.all([holding, nesting]);
    const seen = await gate.seen();
    expect(seen[0]).to.equal('hold:top-level');
    expect(seen[1]).to.equal('nest:top-level-while-pending');
    expect(seen).to.include(':nested');
  });
});

describe('apartments/admission: deadlocks are reported, not left to hang', () => {
  it('refuses one call of a two-chain cycle with DeadlockError naming the apartments, by detection rather than the 30 s deadline', async () => {
    ({ rt } = await startRuntime({ defaultTimeoutMs: 30_000 }));
    const a = await rt.createApartment({ name: 'left' });
    const b = await rt.createApartment({ name: 'right' });
    const x = await a.createObject<Chain>('Chain');
    const y = await b.createObject<Chain>('Chain');
    const outcome = Promise.allSettled([x.pingPong(y, 30), y.pingPong(x, 30)]);
    // Reported by detection, not by the deadline: a deadline would fail both calls with CallTimeoutError.
    const results = await outcome;
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(failed).to.have.length(1);
    expect(failed[0]!.reason).to.be.instanceOf(DeadlockError);
    expect((failed[0]!.reason as Error).message).to.contain("'left'").and.contain("'right'").and.contain('Chain.touch');
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
  });
});

describe('apartments/admission: the calls of a caller that is gone', () => {
  /** A Holder in a caller apartment of its own that keeps `target`; the caller apartment is returned to be ended. */
  async function callerHolding(target: unknown): Promise<{ caller: Apartment; holder: Remote<Holder> }> {
    const caller = await rt!.createApartment({ name: 'caller' });
    const holder = await caller.createObject<Holder>('Holder');
    await holder.keep(target);
    return { caller, holder };
  }

  it('never starts a queued call whose caller apartment died, and lets the object serve others', async () => {
    const { apt, acct, gate, first } = await accountHeld();
    const { caller, holder } = await callerHolding(acct);
    const queued = holder.callKept(0, 'deposit', 100, 'from the dead caller').catch((e: unknown) => e);
    await queuedBecomes(apt, 1, 'the dead caller\'s deposit waits its turn');
    await caller.terminate();
    await queued;
    await queuedBecomes(apt, 0, 'the callee dropped the deposit of the caller that died');
    await finishAndCheck(acct, gate, first);
    expect((await apt.stats()).exports, 'only the host\'s account stays exported').to.equal(1);
  });

  it('aborts the signal of a running call whose caller apartment died', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ name: 'callee' });
    const chain = await apt.createObject<Chain>('Chain');
    const started = new Int32Array(new SharedArrayBuffer(4));
    const { caller, holder } = await callerHolding(chain);
    const running = holder.callKept(0, 'watchCancel', 600_000, started).catch((e: unknown) => e);
    await eventually(() => {
      expect(Atomics.load(started, 0), 'the call started').to.equal(1);
    }, 60_000);
    await caller.terminate();
    await running;
    await eventually(async () => {
      expect(await chain.seenCancels(), 'the callee saw its signal abort').to.deep.equal([true]);
    }, 60_000);
    expect((await apt.stats()).runningCalls).to.equal(0);
  });

  it('hands the object\'s turn on when a running call of a dead caller does not stop within the grace period', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ name: 'callee', callLimits: { overrunGraceMs: 200 } });
    const acct = await apt.createObject<Account>('Account');
    const gate = new Int32Array(new SharedArrayBuffer(8));
    const { caller, holder } = await callerHolding(acct);
    const held = holder.callKept(0, 'depositHeld', 1, 'from the dead caller', gate).catch((e: unknown) => e);
    await eventually(() => {
      expect(Atomics.load(gate, 1), 'the held deposit started').to.equal(1);
    }, 60_000);
    await caller.terminate();
    await held;
    expect(await acct.deposit(1, 'after')).to.equal(1);
    expect((await apt.stats()).wedgedCalls).to.equal(1);
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await eventually(async () => {
      expect((await apt.stats()).wedgedCalls, 'the wedged call settled').to.equal(0);
    }, 60_000);
  });

  it('disconnects the dead caller\'s proxies before a running call hears its signal abort', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ name: 'callee' });
    const chain = await apt.createObject<Chain>('Chain');
    const started = new Int32Array(new SharedArrayBuffer(4));
    const { caller, holder } = await callerHolding(chain);
    const running = holder.callKeptWithCallback(0, 'callBackOnAbort', started).catch((e: unknown) => e);
    await eventually(() => {
      expect(Atomics.load(started, 0)).to.equal(1);
    }, 60_000);
    const channels = (await apt.stats()).channels;
    await caller.terminate();
    await running;
    let outcome = 'none';
    await eventually(async () => {
      outcome = await chain.abortCallbackOutcome();
      expect(outcome).to.not.equal('none');
    }, 60_000);
    expect(outcome).to.match(/^DisconnectedError/);
    expect(outcome, 'no link was asked for to the dead apartment').to.not.contain('[apartment-gone]');
    expect((await apt.stats()).channels).to.be.at.most(channels);
  });
});

describe('apartments/admission: cancellation', () => {
  it('never starts a queued call that was cancelled', async () => {
    // The first deposit holds the object's turn until released, so the second one surely waits.
    const { apt, acct, gate, first } = await accountHeld();
    const ac = new AbortController();
    const second = acct.deposit(100, 'second', callOptions({ signal: ac.signal })).catch((e: unknown) => e);
    await queuedBecomes(apt, 1, 'the second deposit waits its turn');
    ac.abort();
    expect(await second).to.be.instanceOf(CallCanceledError);
    // The caller knows at once; the callee when the cancel arrives. Hand the turn on only after that:
    // a turn handed on while the cancel is on its way starts the call (docs/reentrancy.md).
    await queuedBecomes(apt, 0, 'the callee dropped the cancelled deposit');
    await finishAndCheck(acct, gate, first);
  });

  it('lets a running callee see the cancellation through its call signal, across awaits', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const chain = await apt.createObject<Chain>('Chain');
    const ac = new AbortController();
    const started = new Int32Array(new SharedArrayBuffer(4));
    const p = chain.watchCancel(60_000, started, callOptions({ signal: ac.signal })).catch((e: unknown) => e);
    while (Atomics.load(started, 0) !== 1) await new Promise((r) => setTimeout(r, 2));
    ac.abort();
    expect(await p).to.be.instanceOf(CallCanceledError);
    expect(await chain.watchCancel(1)).to.equal(false);
    expect(await chain.seenCancels()).to.deep.equal([true, false]);
  });
});
