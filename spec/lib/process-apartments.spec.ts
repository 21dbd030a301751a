import { expect } from 'chai';
import { InvalidArgumentError, type ApartmentOptions, type Runtime } from '../../lib/index.js';
import { processApartment, rejection, startProcessRuntime } from '../fixtures/process-fixture.js';

/** The running test's runtime (the runtime fixture closes it after the test). */
let rt: Runtime | undefined;
afterEach(() => {
  rt = undefined;
});

/** The InvalidArgumentError createApartment() fails with for `options`, before any process starts. */
async function refused(options: ApartmentOptions): Promise<InvalidArgumentError> {
  const runtime = (rt ??= await startProcessRuntime());
  const err = await rejection(Promise.resolve().then(() => runtime.createApartment(options)));
  expect(err, String(err)).to.be.instanceOf(InvalidArgumentError);
  expect(runtime.apartments, 'nothing was started').to.have.length(0);
  return err as InvalidArgumentError;
}

describe('lib/process-apartments: process options are checked before a process starts', () => {
  it('refuses a process name that is not plain, naming the parameter', async () => {
    const err = await refused({ process: 'has spaces/and slashes' });
    expect(err.message).to.match(/^\[process-name\] process must name a process server/);
    expect(err.parameter).to.equal('process');
  });

  it('refuses another transport for a process apartment, and the ipc transport for a thread', async () => {
    expect((await refused({ process: 'plugins', transport: 'port' })).message).to.match(/^\[process-transport\] a process apartment is linked over its IPC channel/);
    expect((await refused({ transport: 'ipc' })).message).to.match(/^\[process-transport\] transport 'ipc' links only process apartments/);
  });

  it('takes only the heap cap from resourceLimits, as a whole number of MB', async () => {
    expect((await refused({ process: 'plugins', resourceLimits: { stackSizeMb: 4 } })).message).to.match(/^\[process-limits\] a process apartment takes only resourceLimits\.maxOldGenerationSizeMb \(its heap cap\); remove stackSizeMb/);
    expect((await refused({ process: 'plugins', resourceLimits: { maxOldGenerationSizeMb: 1.5 } })).message).to.match(/^\[process-limits\] resourceLimits\.maxOldGenerationSizeMb must be a whole number of MB/);
  });

  it('refuses a heartbeat period or miss count out of range', async () => {
    expect((await refused({ process: 'plugins', heartbeat: { periodMs: 0 } })).message).to.match(/^\[heartbeat\] heartbeat\.periodMs must be/);
    expect((await refused({ process: 'plugins', heartbeat: { misses: 0.5 } })).message).to.match(/^\[heartbeat\] heartbeat\.misses must be/);
    // Before: a TypeError reading periodMs.
    const notObject = await refused({ process: 'plugins', heartbeat: null as never });
    expect(notObject.message).to.match(/^\[heartbeat\] heartbeat takes an options object/);
    expect(notObject.parameter).to.equal('heartbeat');
  });

  it('refuses a heartbeat for an apartment that is a thread of this process, where it was ignored', async () => {
    const err = await refused({ heartbeat: { periodMs: 100, misses: 3 } });
    expect(err.message).to.match(/^\[thread-heartbeat\] heartbeat sets how a process server is watched; this apartment is a thread of this process/);
    expect(err.parameter).to.equal('heartbeat');
  });
});

describe('lib/process-apartments: a later apartment joins a running process server as it is', () => {
  it('refuses another heartbeat for a running server, and takes the same or none', async () => {
    const runtime = await startProcessRuntime();
    const { apt } = await processApartment(runtime, { process: 'plugins', heartbeat: { periodMs: 500, misses: 4 } });
    const err = await rejection(Promise.resolve().then(() => runtime.createApartment({ process: 'plugins', heartbeat: { periodMs: 1_000 } })));
    expect(err).to.be.instanceOf(InvalidArgumentError);
    expect(err.message).to.match(/^\[process-heartbeat\] process server 'plugins' already runs with a heartbeat of 500 ms × 4; leave heartbeat out to join it/);
    const same = await runtime.createApartment({ process: 'plugins', heartbeat: { periodMs: 500, misses: 4 } });
    const none = await runtime.createApartment({ process: 'plugins' });
    expect([same.hostIdentity, none.hostIdentity]).to.deep.equal([apt.hostIdentity, apt.hostIdentity]);
  });
});
