import { expect } from 'chai';
import { ContractViolationError, type Runtime } from '../../../lib/index.js';
import type { Caller, Guarded } from '../../fixtures/contract-classes.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';

type Async<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never };

async function start(): Promise<{ r: Runtime; caller: Async<Caller>; callerId: number }> {
  const { rt } = await startRuntime({ freePoolSize: 2 });
  for (const name of ['Guarded', 'BrokenGuard', 'PoolGuarded', 'Caller']) rt.registerClass(name, { module: fixture('contract-classes.js'), export: name });
  const apt = await rt.createApartment({ name: 'caller' });
  return { r: rt, caller: await apt.createObject<Async<Caller>>('Caller'), callerId: apt.id };
}

describe('lib/contracts: admit() decides which cross-apartment calls an object takes', () => {
  it('admits the calls it accepts, and shows admit() the facts of the call', async () => {
    const { r } = await start();
    const guarded = await r.createInstance<Async<Guarded>>('Guarded');
    const home = await guarded.where();
    expect(home).to.equal(r.apartments.find((a) => a.name === 'guarded')!.id);
    expect(await guarded.lastAsked()).to.deep.equal({ className: 'Guarded', method: 'lastAsked', callerApartment: 0, apartment: home });
  });

  it('refuses the others with ContractViolationError naming the contract and saying what to do', async () => {
    const { r, caller } = await start();
    const guarded = await r.createInstance<Async<Guarded>>('Guarded');
    const err = await caller.call(guarded, 'where').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ContractViolationError);
    expect((err as ContractViolationError).code).to.equal('RPC_E_WRONG_THREAD');
    expect((err as Error).message).to.match(/^\[contract-refused\] contract 'spec-main-callers' refused call 'where' from .* to Guarded in .*: only the main apartment may call a Guarded; ask the host to make the call$/);
    expect(await guarded.where(), 'the object still serves the callers it admits').to.be.a('number');
  });

  it('refuses a call when admit() throws, and says the contract is at fault', async () => {
    const { r } = await start();
    const broken = await r.createInstance<{ where(): Promise<number> }>('BrokenGuard');
    const err = await broken.where().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ContractViolationError);
    expect((err as Error).message).to.match(/^\[contract-admit-threw\] the admit\(\) of contract 'spec-throwing-admit' threw .*admit exploded/);
  });

  it('applies to free-pool handle calls too: the call crossed into the pool', async () => {
    const { r, caller } = await start();
    const counter = await r.createInstance<{ increment(): Promise<number> }>('PoolGuarded');
    expect(await counter.increment()).to.equal(1);
    const err = await caller.call(counter, 'increment').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ContractViolationError);
    expect((err as Error).message).to.match(/^\[contract-refused\] contract 'spec-pool-main-callers' refused call 'increment' .*: only the main apartment may call this$/);
    expect(await counter.increment(), 'the refused call did not run').to.equal(2);
  });
});
