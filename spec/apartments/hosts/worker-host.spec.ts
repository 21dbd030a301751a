import { expect } from 'chai';
import { ApartmentFaultedError, type Apartment } from '../../../lib/index.js';
import type { Crasher } from '../../fixtures/crasher.js';
import { startRuntime } from '../../fixtures/runtime-fixture.js';

/** The fault an apartment reports, with the event that reported it. */
function faultOf(apt: Apartment): Promise<ApartmentFaultedError> {
  return new Promise((resolve) => apt.once('fault', resolve));
}

describe('apartments/hosts/worker-host: a worker thread hosts each apartment', () => {
  it('names its host by thread for logs and gives the thread id to those who need one', async () => {
    const { rt } = await startRuntime();
    const apt = await rt.createApartment({ name: 'hosted' });
    expect(apt.threadId).to.be.a('number').and.greaterThan(0);
    expect(apt.hostIdentity).to.equal(`thread ${apt.threadId}`);
    await apt.close();
    expect(apt.state).to.equal('closed');
  });
});

describe('apartments/hosts/worker-host: the host\'s exit event drives the apartment\'s fault path', () => {
  it('faults an apartment whose thread calls process.exit with ApartmentFaultedError naming the thread and its exit code', async () => {
    const { rt } = await startRuntime();
    const apt = await rt.createApartment({ name: 'exits' });
    const thread = apt.threadId;
    const crasher = await apt.createObject<Crasher>('Crasher');
    const faulted = faultOf(apt);
    const reported = new Promise<ApartmentFaultedError>((resolve) => rt.once('apartment-faulted', (_a, err) => resolve(err)));
    const call = crasher.exit(3).then(() => undefined, (err: unknown) => err);
    const err = await faulted;
    expect(err).to.be.instanceOf(ApartmentFaultedError);
    expect((err.cause as Error).message).to.equal(`thread ${thread} exited with code 3`);
    expect(await reported).to.equal(err);
    expect(await call, 'the call in flight failed with the fault').to.be.instanceOf(ApartmentFaultedError);
    expect(apt.state).to.equal('faulted');
  });
});

describe('apartments/hosts/worker-host: the host\'s error event drives the apartment\'s fault path', () => {
  it('faults an apartment whose thread throws an uncaught error, with that error as the cause', async () => {
    const { rt } = await startRuntime();
    const apt = await rt.createApartment({ name: 'throws' });
    const crasher = await apt.createObject<Crasher>('Crasher');
    const faulted = faultOf(apt);
    expect(await crasher.throwLater('boom in the thread')).to.equal(true);
    const err = await faulted;
    expect(err).to.be.instanceOf(ApartmentFaultedError);
    expect((err.cause as Error).message).to.equal('boom in the thread');
    expect(apt.state).to.equal('faulted');
    // The host ended the thread: a later close has nothing left to do.
    await apt.close();
    expect(apt.state).to.equal('faulted');
  });
});
