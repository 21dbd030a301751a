import { expect } from 'chai';
import { CallCanceledError, callOptions, lease } from '../../lib/index.js';
import type { Lessee, RentalCounter } from '../fixtures/rental-classes.js';
import { reportedWait } from '../fixtures/reported-wait.js';
import { fixture, startRuntime } from '../fixtures/runtime-fixture.js';

describe('lib/rental: a lease a worker apartment waits for while it serves a call', () => {
  it('is given up when that call is cancelled, with no signal or time limit of its own, and the object is not granted to it', async () => {
    const { rt } = await startRuntime();
    rt.registerClass('RentalCounter', { module: fixture('rental-classes.js'), export: 'RentalCounter' });
    rt.registerClass('Lessee', { module: fixture('rental-classes.js'), export: 'Lessee' });
    const lessee = await (await rt.createApartment({ name: 'lessee' })).createObject<Lessee>('Lessee');
    const handle = await rt.createObject('RentalCounter', 10);
    const mine = await lease<RentalCounter>(handle);
    const wait = reportedWait<string>();
    const cancel = new AbortController();
    const served = lessee.waitForServedCall(handle, wait.onStarted, wait.onEnded, callOptions({ signal: cancel.signal })).catch((e: unknown) => e);
    await wait.started;
    cancel.abort();
    expect(await served).to.be.instanceOf(CallCanceledError);
    // Before: the wait went on after its call was cancelled, for good (timeoutMs Infinity).
    expect(await wait.ended()).to.match(/^CallCanceledError: \[canceled\] call 'rental:lease' to the main apartment was cancelled/);
    await mine.release();
    // Free, with the state it had: not granted to the cancelled waiter, nor held by it.
    const next = await lease<RentalCounter>(handle);
    expect(next.value.count).to.equal(10);
    await next.release();
  });
});
