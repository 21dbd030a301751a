import { expect } from 'chai';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { WrongThreadError } from '../../lib/index.js';

const ENTRY = new URL('../../lib/worker-main.js', import.meta.url);

describe('lib/worker-main: the worker entry run anywhere but an apartment thread', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.terminate();
    worker = undefined;
  });

  it('refuses to load in the main thread with WrongThreadError naming what to import instead', async () => {
    // Before: a TypeError from Object.keys(undefined), naming nothing the user wrote.
    const err = await import(ENTRY.href).then(() => undefined, (e: unknown) => e);
    expect(err, String(err)).to.be.instanceOf(WrongThreadError);
    expect((err as Error).message).to.match(/^\[worker-entry\] .*import 'apartment-runtime' instead/);
  });

  it('refuses to run in a Worker the runtime did not start (no boot record)', async () => {
    worker = new Worker(ENTRY, { stdout: true, stderr: true });
    const [err] = (await once(worker, 'error')) as [Error];
    expect(err.message).to.match(/^\[worker-entry\] /);
  });
});
