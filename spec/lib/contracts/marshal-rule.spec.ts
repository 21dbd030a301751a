import { expect } from 'chai';
import { ContractViolationError, isProxy, type Runtime } from '../../../lib/index.js';
import type { AgileTally } from '../../fixtures/contract-classes.js';
import type { Holder } from '../../fixtures/holder.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';

async function start(): Promise<Runtime> {
  const { rt } = await startRuntime();
  for (const name of ['AgileTally', 'NotShareable', 'LeasedElsewhere']) rt.registerClass(name, { module: fixture('contract-classes.js'), export: name });
  return rt;
}

describe('lib/contracts: a custom contract marshaling \'agile\' hands out direct views', () => {
  it('gives another apartment its own view of the same shared state, called on its own thread', async () => {
    const r = await start();
    const tally = await r.createInstance<AgileTally>('AgileTally');
    expect(isProxy(tally)).to.equal(false);
    const apt = await r.createApartment();
    const holder = await apt.createObject<Holder>('Holder');
    await holder.keep(tally);
    expect(((await holder.callKept(0, 'where')) as { apartment: number }).apartment, 'the call ran in the holder\'s apartment').to.equal(apt.id);
    expect(await holder.callKept(0, 'increment')).to.equal(1);
    expect(tally.increment()).to.equal(2);
    const back = await holder.give(0);
    expect(isProxy(back), 'coming back is a view too, not a proxy').to.equal(false);
    expect((back as AgileTally).get()).to.equal(2);
  });

  it('refuses a class that has no shared state instead of quietly proxying it', async () => {
    const r = await start();
    const err = await r.createInstance('NotShareable').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ContractViolationError);
    expect((err as Error).message).to.match(/^\[agile-class\] class 'NotShareable' uses contract 'spec-agile', which marshals 'agile'.*lacks toShared\(\) and static fromShared/);
  });
});

describe('lib/contracts: a leased contract must keep its lease handles in the main apartment', () => {
  it('refuses to create an instance of a leased contract placed elsewhere', async () => {
    const r = await start();
    const err = await r.createInstance('LeasedElsewhere').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ContractViolationError);
    expect((err as Error).message).to.contain('[leased-placement]');
  });
});
