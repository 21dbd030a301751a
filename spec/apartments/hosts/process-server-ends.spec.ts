import { expect } from 'chai';
import { ApartmentFaultedError, release, type Apartment, type Runtime } from '../../../lib/index.js';
import type { ProcessProbe } from '../../fixtures/process-probe.js';
import { isRunning, processApartment, rejection, startProcessRuntime, until } from '../../fixtures/process-fixture.js';

/** Start two apartments in one new process server and hand both out before the child said hello. */
function twoStarting(runtime: Runtime): { first: Promise<Apartment>; second: Promise<Apartment>; created: Apartment[] } {
  const created: Apartment[] = [];
  runtime.on('apartment-created', (apt) => created.push(apt));
  const first = runtime.createApartment({ name: 'first', process: 'early' });
  const second = runtime.createApartment({ name: 'second', process: 'early' });
  return { first, second, created };
}

/** The pid of the process an apartment runs in. */
const pidOf = (apt: Apartment): number => Number(/^process (\d+)$/.exec(apt.hostIdentity)?.[1]);

describe('apartments/hosts/process-server-ends: an apartment ended before its process said hello', () => {
  it('never starts, and the process serves the other apartment', async () => {
    const runtime = await startProcessRuntime();
    const { first, second, created } = twoStarting(runtime);
    expect(created.map((a) => a.state), 'both wait for the child').to.deep.equal(['starting', 'starting']);
    // The Terminate used to reach the child before the boot record, which then started it anyway.
    await created[1]!.terminate();
    const refused = await rejection(second);
    expect(refused, String(refused)).to.be.instanceOf(ApartmentFaultedError);
    const apt = await first;
    const pid = pidOf(apt);
    const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.pid()).to.equal(pid);
    release(probe);
    await apt.close();
    await until('the process ends with its one apartment (no thread was started for the other)', () => !isRunning(pid));
  });

  it('on the main thread: the next apartment takes the main thread, and nothing kills the process', async () => {
    const runtime = await startProcessRuntime();
    const { first, second, created } = twoStarting(runtime);
    // The first apartment's end used to be waited for in vain, and its grace period then killed the
    // whole process with the second apartment in it.
    await created[0]!.terminate();
    await rejection(first);
    const apt = await second;
    const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.thread(), 'it runs on the main thread of the child').to.equal(0);
    await new Promise((r) => setTimeout(r, 6_000));
    expect(await probe.pid(), 'it serves on after the grace period').to.equal(pidOf(apt));
    expect(apt.state).to.equal('ready');
    release(probe);
  });
});

describe('apartments/hosts/process-server-ends: ending an apartment while the process\'s main thread is busy', () => {
  it('ends it after a grace period though its end cannot be confirmed, and the main thread serves on after its call', async () => {
    const runtime = await startProcessRuntime();
    const { apt: main } = await processApartment(runtime, { name: 'main', process: 'busy' });
    const { apt: other } = await processApartment(runtime, { name: 'other', process: 'busy' });
    const onMain = await main.createObject<ProcessProbe>('ProcessProbe');
    expect(await onMain.thread()).to.equal(0);
    let blocking!: () => void;
    const started = new Promise<void>((resolve) => (blocking = resolve));
    const busy = onMain.busyAfter(() => blocking(), 8_000);
    await started;
    // The child's main thread relays the Terminate and the report of the end: busy, it does neither.
    await other.terminate();
    expect(other.state).to.equal('faulted');
    expect(await busy, 'the long call ends as it would have').to.equal(pidOf(main));
    expect(await onMain.pid()).to.equal(pidOf(main));
    release(onMain);
  });
});
