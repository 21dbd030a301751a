import { expect } from 'chai';
import type { Apartment, Remote, Runtime } from '../../lib/index.js';
import type { ArmedConstructor, ArmedName, Hostile } from '../fixtures/hostile.js';
import { holdTurn } from '../fixtures/held-turn.js';
import { eventually, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime;
// A reply that never came would hang the spec (its guard fails it) rather than end at a deadline.
const patient = { defaultTimeoutMs: 600_000 };

async function hostileObject(): Promise<Remote<Hostile>> {
  ({ rt } = await startRuntime(patient));
  rt.registerClass('Hostile', { module: fixture('hostile.js'), export: 'Hostile' });
  return (await rt.createApartment({ name: 'hostile' })).createObject<Hostile>('Hostile');
}

const cases: { kind: string; what: string; check(err: Error): void }[] = [
  { kind: 'stack', what: 'a `stack` getter that throws', check: (e) => expect(e.message).to.match(/^\[unserializable-error\] a thrown TypeError .*: stack getter/) },
  { kind: 'name', what: 'a `name` getter that throws', check: (e) => expect(e.message).to.match(/^\[unserializable-error\] a thrown Error .*: name getter/) },
  // Only the throwing property is left out: the error itself travels as usual.
  { kind: 'enumerable', what: 'an enumerable getter that throws', check: (e) => {
    expect(e).to.be.instanceOf(RangeError);
    expect(e.message).to.equal('enumerable getter');
  } },
  // What copying would make huge is left out or clipped; the rest of the error travels.
  { kind: 'repeated', what: 'a property repeating one string 6000 times and itself as its cause', check: (e) => {
    expect(e).to.be.instanceOf(RangeError);
    expect(e.message).to.equal('repeated');
    expect((e as Error & { small?: string }).small).to.equal('kept');
    expect(e).to.not.have.property('detail');
  } },
  { kind: 'long-message', what: 'a message of 16 Mi characters', check: (e) => {
    expect(e.message).to.have.length.below(2 ** 20 + 64);
    expect(e.message).to.match(/^m+… \(15728640 more characters clipped\)$/);
  } },
  { kind: 'proxy', what: 'a Proxy whose traps throw', check: (e) => expect(e.message).to.match(/^\[unserializable-error\] a thrown object could not be sent/) },
];

describe('apartments/hostile-errors: a hostile thrown value is still answered', () => {
  for (const c of cases) {
    it(`answers a call that throws an error with ${c.what}, and a call that rejects with one, with a safe error`, async () => {
      const obj = await hostileObject();
      for (const call of [() => obj.throwIt(c.kind), () => obj.rejectIt(c.kind)]) {
        const err = await call().then(() => undefined, (e: unknown) => e);
        expect(err).to.be.instanceOf(Error);
        c.check(err as Error);
      }
      // Nothing faulted: the apartment keeps serving.
      expect(await obj.ping()).to.equal('pong');
      expect(rt.apartments.find((a) => a.name === 'hostile')?.state).to.equal('ready');
    });
  }
});

describe('apartments/hostile-errors: a target whose class cannot be read is still answered', () => {
  it('fails a call whose target\'s constructor getter throws with that error, and the apartment serves on', async () => {
    const hostile = await hostileObject();
    const shape = (await hostile.trickyShape()) as unknown as Remote<{ ping(): string }>;
    await hostile.armShapes();
    const err = await shape.ping().catch((e: unknown) => e);
    expect((err as Error).message).to.contain('constructor getter');
    expect(await hostile.ping()).to.equal('pong');
  });
});

/**
 * An object of hostile.js's class `cls` in an apartment that lets each caller one waiting call, so
 * a count left behind by one call refuses the next.
 */
async function armedObject<T>(cls: string): Promise<{ apt: Apartment; armed: Remote<T> }> {
  ({ rt } = await startRuntime(patient));
  rt.registerClass(cls, { module: fixture('hostile.js'), export: cls });
  const apt = await rt.createApartment({ name: 'armed', callLimits: { maxQueuedPerCaller: 1 } });
  return { apt, armed: await apt.createObject<T>(cls) };
}


describe('apartments/hostile-errors: a call that waits for the turn of an object whose class name cannot be read', () => {
  it('waits and runs like any other, and leaves no count of its caller behind', async () => {
    const { apt, armed } = await armedObject<ArmedName>('ArmedName');
    await armed.armName();
    for (let round = 0; round < 2; round++) {
      const { flag, held } = await holdTurn(armed);
      const waiting = armed.ping();
      await eventually(async () => {
        expect((await apt.stats()).queuedCalls).to.equal(1);
      }, 60_000);
      Atomics.store(flag, 0, 1);
      // Before: naming the target for the wait graph ran its `name` getter, whose throw failed the call and kept its count.
      expect(await waiting, `round ${round}`).to.equal('pong');
      expect(await held).to.equal(true);
    }
    expect((await apt.stats()).queuedCalls).to.equal(0);
  });
});

describe('apartments/hostile-errors: a call whose target\'s constructor getter throws as the call is queued', () => {
  it('fails with that error, and leaves no count of its caller behind', async () => {
    const { apt, armed } = await armedObject<ArmedConstructor>('ArmedConstructor');
    for (let round = 0; round < 2; round++) {
      const { flag, held } = await holdTurn(armed);
      const err = await armed.ping().catch((e: unknown) => e);
      // Before: the dispatcher counted the call as waiting before the admission's read threw, and the second round was refused [queue-full].
      expect((err as Error).message, `round ${round}`).to.contain('constructor getter');
      Atomics.store(flag, 0, 1);
      expect(await held).to.equal(true);
    }
    expect(await armed.ping()).to.equal('pong');
    expect((await apt.stats()).queuedCalls).to.equal(0);
  });
});
