import { expect } from 'chai';
import {
  CallCanceledError, CallRejectedError, CallTimeoutError, ContractViolationError, DisconnectedError, InUseError, InvalidArgumentError, byRef, currentApartment, disposeRental, lease, type Remote, type RentalLease, type Runtime,
} from '../../lib/index.js';
import type { Holder } from '../fixtures/holder.js';
import type { BumpingLessee, Lessee, PromisedStateRental, RentalCounter, StubbornRental } from '../fixtures/rental-classes.js';
import { fixture, startRuntime } from '../fixtures/runtime-fixture.js';
import { expectUnknownOption, refusal } from '../fixtures/option-refusals.js';

let rt: Runtime | undefined;

/** The object is free: it leases here again with `count`, and goes back. */
async function expectLeasedAgain(handle: unknown, count: number): Promise<void> {
  const next = await lease<RentalCounter>(handle);
  expect(next.value.count, 'leased again, with its state').to.equal(count);
  await next.release();
}

async function start(): Promise<{ r: Runtime; handle: unknown; lessee: Awaited<ReturnType<Runtime['createObject']>> & { useOnce(h: unknown, w: boolean, t?: number): Promise<{ count: number; where: number }>; take(h: unknown): Promise<number>; callWithoutLease(h: unknown): Promise<number>; giveBack(): Promise<void> }; aptId: number }> {
  ({ rt } = await startRuntime());
  rt.registerClass('RentalCounter', { module: fixture('rental-classes.js'), export: 'RentalCounter' });
  rt.registerClass('Lessee', { module: fixture('rental-classes.js'), export: 'Lessee' });
  const apt = await rt.createApartment({ name: 'lessee' });
  const lessee = await apt.createObject<Lessee>('Lessee');
  const handle = await rt.createObject('RentalCounter', 10);
  return { r: rt, handle, lessee: lessee as never, aptId: apt.id };
}

describe('lib/rental: one apartment at a time, and it moves', () => {
  it('moves the object into the leasing apartment with its state, and back out on release', async () => {
    const { handle, lessee, aptId } = await start();
    const mine = await lease<RentalCounter>(handle);
    expect(mine.value.increment()).to.equal(11);
    expect(mine.value.where()).to.equal(0);
    await mine.release();
    expect(await lessee.useOnce(handle, false)).to.deep.equal({ count: 12, where: aptId });
    await using again = await lease<RentalCounter>(handle);
    expect(again.value.count).to.equal(12);
  });

  it('refuses calls from anyone not holding the lease, and a second holder', async () => {
    const { handle, lessee } = await start();
    // On the main apartment the handle is local, so the refusal is synchronous; elsewhere it is a rejected call.
    expect(() => (handle as { increment(): number }).increment()).to.throw(ContractViolationError, /rental-not-leased/);
    const remote = await lessee.callWithoutLease(handle).catch((e: unknown) => e);
    expect(remote).to.be.instanceOf(ContractViolationError);
    expect((remote as ContractViolationError).code).to.equal('RPC_E_WRONG_THREAD');
    const mine = await lease<RentalCounter>(handle);
    expect(await lessee.useOnce(handle, false).catch((e: unknown) => e)).to.be.instanceOf(ContractViolationError);
    await mine.release();
    expect(() => mine.value.increment()).to.throw(ContractViolationError, /rental-released/);
  });

  it('refuses calls from an apartment the holder handed the leased object to', async () => {
    const { r, handle } = await start();
    const mine = await lease<RentalCounter>(handle);
    const other = await r.createApartment({ name: 'bystander' });
    const holder = await other.createObject<Holder>('Holder');
    await holder.keep(mine.value);
    const err = await holder.callKept(0, 'increment').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ContractViolationError);
    expect((err as ContractViolationError).code).to.equal('RPC_E_WRONG_THREAD');
    expect((err as Error).message).to.match(/^\[contract-refused\] contract 'rental' refused call 'increment' .*lease it with lease\(handle\)/);
    expect(mine.value.increment(), 'the refused call did not run; the holder still uses it').to.equal(11);
    await mine.release();
  });

  it('lets a lease wait in the queue, or give up at its deadline', async () => {
    const { handle, lessee } = await start();
    const mine = await lease<RentalCounter>(handle);
    expect(await lessee.useOnce(handle, true, 30).catch((e: unknown) => e)).to.be.instanceOf(CallTimeoutError);
    const waiting = lessee.useOnce(handle, true, 5_000);
    await new Promise((r) => setTimeout(r, 20));
    mine.value.increment();
    await mine.release();
    expect((await waiting).count).to.equal(12);
  });

  it('refuses a timeoutMs that is not a positive number with InvalidArgumentError, before asking', async () => {
    const { handle } = await start();
    for (const timeoutMs of [0, -5, NaN]) {
      const err = await lease(handle, { wait: true, timeoutMs }).catch((e: unknown) => e);
      expect(err, String(timeoutMs)).to.be.instanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).parameter).to.equal('options.timeoutMs');
    }
    // Before: null failed with a TypeError, and a number was taken for no options.
    for (const options of [null, 5]) {
      const err = await lease(handle, options as never).catch((e: unknown) => e);
      expect(err, String(options)).to.be.instanceOf(InvalidArgumentError);
      expect((err as Error).message).to.match(/^\[lease\] lease\(\) takes an options object/);
    }
    // Before: anything but true did not wait.
    const notWaiting = await lease(handle, { wait: 'true' as never }).catch((e: unknown) => e);
    expect(notWaiting).to.be.instanceOf(InvalidArgumentError);
    expect((notWaiting as InvalidArgumentError).parameter).to.equal('options.wait');
    // Before: a misspelt wait was ignored, and a lease held elsewhere failed at once instead of waiting.
    expectUnknownOption(await refusal(() => lease(handle, { wiat: true } as never)), 'wiat', 'lease()', 'wait');
    await expectLeasedAgain(handle, 10);
  });

  it('hands a waiting lease on when the holder in another apartment gives the object back', async () => {
    const { r, handle, lessee } = await start();
    const other = await (await r.createApartment({ name: 'second lessee' })).createObject<Lessee>('Lessee');
    expect(await lessee.take(handle)).to.equal(11);
    const waiting = other.useOnce(handle, true, 120_000);
    // The waiting lease is a call still open on the handle: the return must not queue behind it.
    await lessee.giveBack();
    expect((await waiting).count).to.equal(12);
  });

  it('moves only once no call is running on it', async () => {
    const { handle } = await start();
    const mine = await lease<RentalCounter>(handle);
    const slow = mine.value.slowIncrement(40);
    await mine.release();
    expect(await slow).to.equal(11);
    await expectLeasedAgain(handle, 11);
  });

  it('refuses to dispose a leased object (InUseError), and is gone after disposal', async () => {
    const { handle, lessee } = await start();
    await lessee.take(handle);
    expect(await disposeRental(handle).catch((e: unknown) => e)).to.be.instanceOf(InUseError);
    await lessee.giveBack();
    await disposeRental(handle);
    expect(await lease(handle).catch((e: unknown) => e)).to.be.instanceOf(DisconnectedError);
  });
});

describe('lib/rental: a lease waiting in the queue of an apartment that ends', () => {
  it('is dropped with it, so the object is not handed to the ended apartment and held by it for good', async () => {
    const { r, handle } = await start();
    const mine = await lease<RentalCounter>(handle);
    const doomed = await r.createApartment({ name: 'doomed lessee' });
    const waiter = await doomed.createObject<Lessee>('Lessee');
    const bystander = await doomed.createObject<Lessee>('Lessee');
    const waiting = waiter.useOnce(handle, true, 120_000).catch((e: unknown) => e);
    // A call the same apartment sends the handle after the lease reaches it after the lease: once it
    // is answered, the lease waits in the queue.
    await bystander.callWithoutLease(handle).catch(() => undefined);
    await doomed.terminate();
    await waiting;
    await mine.release();
    await expectLeasedAgain(handle, 10);
  });
});

/** The call deadline of the lessee apartments below: short, so that a wait it cut would end soon. */
const CALL_DEADLINE_MS = 300;

/** A lessee in an apartment whose calls out have the short deadline CALL_DEADLINE_MS. */
async function hastyLessee(r: Runtime, name: string): Promise<Remote<Lessee>> {
  return (await r.createApartment({ name, defaultTimeoutMs: CALL_DEADLINE_MS })).createObject<Lessee>('Lessee');
}

/** Wait `ms` (a lower bound only: nothing here asserts how late a timer fires). */
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('lib/rental: a lease whose caller gives up on it while it waits', () => {
  it('leaves the queue, so the object is not granted to a caller that stopped waiting and held by it for good', async () => {
    const { r, handle } = await start();
    const mine = await lease<RentalCounter>(handle);
    // Its wait has no limit of its own, and its calls out have a short deadline: its signal ends it.
    const waiter = await hastyLessee(r, 'impatient lessee');
    expect(await waiter.useOnceAborted(handle, Infinity, 5 * CALL_DEADLINE_MS)).to.match(/^CallCanceledError: /);
    await mine.release();
    await expectLeasedAgain(handle, 10);
  });
});

describe('lib/rental: a lease waiting in a worker apartment lasts its own timeoutMs, not the worker\'s call deadline', () => {
  it('is granted when the holder gives the object back long after the call deadline, with timeoutMs Infinity', async () => {
    const { r, handle } = await start();
    const mine = await lease<RentalCounter>(handle);
    const waiter = await hastyLessee(r, 'patient lessee');
    let ended: unknown;
    const waiting = waiter.useOnce(handle, true, Infinity).then((v) => (ended = v), (e: unknown) => (ended = e));
    // Before: the wait failed with CallTimeoutError once the worker's call deadline passed.
    await sleep(5 * CALL_DEADLINE_MS);
    expect(ended, 'still waiting after 5 call deadlines').to.equal(undefined);
    mine.value.increment();
    await mine.release();
    await waiting;
    expect(ended).to.deep.include({ count: 12 });
  });

  it('is granted when the holder gives the object back after the call deadline, with a timeoutMs longer than it', async () => {
    const { r, handle } = await start();
    const mine = await lease<RentalCounter>(handle);
    const waiter = await hastyLessee(r, 'patient lessee');
    const waiting = waiter.useOnce(handle, true, 120_000).catch((e: unknown) => e);
    await sleep(5 * CALL_DEADLINE_MS);
    await mine.release();
    expect(await waiting).to.deep.include({ count: 11 });
  });

  it('ends at its own timeoutMs with its own CallTimeoutError, whether that is longer or shorter than the call deadline', async () => {
    const { r, handle } = await start();
    const mine = await lease<RentalCounter>(handle);
    const waiter = await hastyLessee(r, 'patient lessee');
    for (const timeoutMs of [2 * CALL_DEADLINE_MS, CALL_DEADLINE_MS / 3]) {
      const err = await waiter.useOnce(handle, true, timeoutMs).catch((e: unknown) => e);
      expect(err, String(timeoutMs)).to.be.instanceOf(CallTimeoutError);
      // Before, for the longer one: the call deadline's '[timeout] call 'rental:lease' …', at 300 ms.
      expect((err as Error).message).to.match(new RegExp(`^\\[rental-wait\\] the lease on this RentalCounter did not come free within ${timeoutMs} ms`));
    }
    await mine.release();
    await expectLeasedAgain(handle, 10);
  });

  it('ends with a clear error, not a hang, when the runtime closes while it waits', async () => {
    const { r, handle } = await start();
    await lease<RentalCounter>(handle);
    const waiter = await hastyLessee(r, 'patient lessee');
    const waiting = waiter.useOnce(handle, true, Infinity).catch((e: unknown) => e);
    await sleep(5 * CALL_DEADLINE_MS);
    await r.close();
    const err = await waiting;
    expect(err).to.be.instanceOf(DisconnectedError);
    expect((err as Error).message).to.match(/^\[apartment-closed\] apartment 'patient lessee'/);
  });
});

describe('lib/rental: a lease granted while its caller gives up', () => {
  it('is given back untouched by the lessee, so the object is not held for good by a caller that stopped waiting', async () => {
    const { handle, lessee } = await start();
    const mine = await lease<RentalCounter>(handle);
    const gate = new Int32Array(new SharedArrayBuffer(8));
    const outcome = (lessee as unknown as Lessee).leaseGivenUpLate(handle, gate);
    while (Atomics.load(gate, 0) === 0) await new Promise((r) => setTimeout(r, 2));
    await mine.release();
    // The lessee's thread is held: once the object is leased by someone else, it was granted to the
    // lessee, whose answer waits behind the hold. (Free again here: the request had not arrived yet.)
    for (;;) {
      const outcomeHere = await lease<RentalCounter>(handle).then((l) => l.release().then(() => 'free'), (e: Error) => e);
      // A turn of the event loop before asking again: the local handle answers in microtasks, and a
      // loop of them alone never read the lessee's request once it came late (a busy machine).
      if (outcomeHere === 'free') {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      expect(outcomeHere, String(outcomeHere)).to.be.instanceOf(ContractViolationError);
      expect((outcomeHere as Error).message).to.match(/^\[rental-busy\].*'lessee'/);
      break;
    }
    Atomics.store(gate, 1, 1);
    Atomics.notify(gate, 1);
    expect(await outcome).to.equal('CallCanceledError');
    await expectLeasedAgain(handle, 10);
  });
});

describe('lib/rental: a lease the main apartment takes while it serves another apartment\'s call', () => {
  it('is held by the main apartment, not by that caller: the caller\'s end leaves it alone, and it is released and leased on', async () => {
    const { r, handle } = await start();
    let kept: RentalLease<RentalCounter> | undefined;
    const service = byRef({
      leaseForMe: async (h: unknown): Promise<number> => {
        kept = await lease<RentalCounter>(h);
        return kept.value.increment();
      },
    });
    const caller = await r.createApartment({ name: 'caller' });
    const holder = await caller.createObject<Holder>('Holder');
    await holder.keep(service);
    await holder.keep(handle);
    // Before: the lease was counted as the caller's (the call being served), so the caller's end
    // lost the object the main apartment held, and a give-up of the caller's own request whose
    // ticket matched the main apartment's gave it back while the main apartment still used it.
    expect(await holder.callKept(0, 'leaseForMe', await holder.give(1))).to.equal(11);
    expect(await lease<RentalCounter>(handle).catch((e: Error) => e.message)).to.match(/^\[rental-held\] the main apartment already holds/);
    await caller.terminate();
    await kept!.release();
    await expectLeasedAgain(handle, 11);
  });
});

describe('lib/rental: a lease given up through its signal', () => {
  it('stops waiting at once with CallCanceledError, refuses a signal that is not one, and the object leases on', async () => {
    const { handle, lessee } = await start();
    expect(await lessee.take(handle)).to.equal(11);
    const abort = new AbortController();
    const waiting = lease<RentalCounter>(handle, { wait: true, timeoutMs: 120_000, signal: abort.signal }).catch((e: unknown) => e);
    abort.abort();
    expect(await waiting).to.be.instanceOf(CallCanceledError);
    const refused = await lease<RentalCounter>(handle, { signal: 'no' as never }).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(InvalidArgumentError);
    await lessee.giveBack();
    await expectLeasedAgain(handle, 11);
  });
});

describe('lib/rental: a lease whose object cannot be built in the leasing apartment', () => {
  it('fails with the reason and holds nothing, so the object can be leased again or disposed', async () => {
    const { r } = await start();
    r.registerClass('FragileRental', { module: fixture('rental-classes.js'), export: 'FragileRental' });
    const handle = await r.createObject('FragileRental', true);
    expect(await lease(handle).catch((e: unknown) => e)).to.be.instanceOf(RangeError);
    const again = await lease(handle).catch((e: unknown) => e);
    expect(again, 'the failed lease was not left held').to.be.instanceOf(RangeError);
    await disposeRental(handle);
  });
});

describe('lib/rental: releasing a lease whose object cannot say its state', () => {
  it('fails the release with the reason and gives the object back with the state it was leased with', async () => {
    const { r } = await start();
    r.registerClass('StubbornRental', { module: fixture('rental-classes.js'), export: 'StubbornRental' });
    const handle = await r.createObject('StubbornRental');
    const first = await lease<StubbornRental>(handle);
    expect(first.value.bump()).to.equal(1);
    await first.release();
    const second = await lease<StubbornRental>(handle);
    expect(second.value.bump()).to.equal(2);
    second.value.jam();
    expect(await second.release().catch((e: unknown) => e)).to.be.instanceOf(RangeError);
    // Before: the lease stayed held, and every later lease was refused until the apartment ended.
    const third = await lease<StubbornRental>(handle);
    expect(third.value.count, 'the state the failed lease began with').to.equal(1);
    await third.release();
    await disposeRental(handle);
  });
});

describe('lib/rental: releasing, in a worker apartment, a lease whose state cannot travel', () => {
  it('fails the release with MarshalError and gives the object back with the state it was leased with', async () => {
    const { r } = await start();
    r.registerClass('PromisedStateRental', { module: fixture('rental-classes.js'), export: 'PromisedStateRental' });
    r.registerClass('BumpingLessee', { module: fixture('rental-classes.js'), export: 'BumpingLessee' });
    const handle = await r.createObject('PromisedStateRental');
    const apt = await r.createApartment({ name: 'bumper' });
    const bumper = await apt.createObject<BumpingLessee>('BumpingLessee');
    expect(await bumper.bumpAndRelease(handle)).to.match(/^MarshalError: .*Promise/);
    // Before: the lease stayed held by the worker, and every later lease was refused until it ended.
    const mine = await lease<PromisedStateRental>(handle);
    expect(mine.value.count, 'the state the failed lease began with').to.equal(0);
    await mine.release();
  });
});

describe('lib/rental: releasing a lease twice while a call on its object still runs', () => {
  it('settles both releases once the call has finished', async () => {
    const { handle } = await start();
    const mine = await lease<RentalCounter>(handle);
    const slow = mine.value.slowIncrement(40);
    const releases = Promise.all([mine.release(), mine.release()]);
    expect(await slow).to.equal(11);
    await releases;
    await expectLeasedAgain(handle, 11);
  });
});

describe('lib/rental: giving a lease back to a main apartment whose message filter refuses calls', () => {
  it('is never put to the filter, so the object is not left leased for good', async () => {
    const { handle, lessee } = await start();
    expect(await lessee.take(handle)).to.equal(11);
    const seen: string[] = [];
    currentApartment().setMessageFilter((call) => {
      seen.push(call.method);
      return 'reject';
    });
    try {
      const refused = await lessee.useOnce(handle, false).catch((e: unknown) => e);
      expect(refused, 'the filter refuses a lease').to.be.instanceOf(CallRejectedError);
      // Before: the return was refused too, and the object stayed leased to the lessee for good.
      await lessee.giveBack();
      expect(seen).to.deep.equal(['rental:lease']);
    } finally {
      currentApartment().setMessageFilter(undefined);
    }
    await expectLeasedAgain(handle, 11);
  });
});
