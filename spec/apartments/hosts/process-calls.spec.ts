import { expect } from 'chai';
import { CallCanceledError, CallTimeoutError, DeadlockError, MarshalError, callOptions, release, type Remote, type Runtime } from '../../../lib/index.js';
import type { Crasher } from '../../fixtures/crasher.js';
import type { Chain } from '../../fixtures/admission-classes.js';
import type { ProcessProbe } from '../../fixtures/process-probe.js';
import { processApartment, rejection, startProcessRuntime } from '../../fixtures/process-fixture.js';

/** A runtime with a process apartment and its probe. */
async function withProbe(): Promise<{ runtime: Runtime; probe: Remote<ProcessProbe> }> {
  const runtime = await startProcessRuntime();
  const { apt } = await processApartment(runtime, { process: 'plugins' });
  return { runtime, probe: await apt.createObject<ProcessProbe>('ProcessProbe') };
}

describe('apartments/hosts/process-calls: deadlines and cancellation cross the process boundary', () => {
  it('fails a call into a process past its deadline with CallTimeoutError, and one its caller cancels with CallCanceledError; the apartment serves on', async () => {
    const { probe } = await withProbe();
    const late = await rejection(probe.hang(callOptions({ timeoutMs: 200 })));
    expect(late, String(late)).to.be.instanceOf(CallTimeoutError);
    const cancel = new AbortController();
    const waiting = rejection(probe.hang(callOptions({ signal: cancel.signal })));
    cancel.abort(new Error('the user gave up'));
    expect(await waiting).to.be.instanceOf(CallCanceledError);
    expect(await probe.pid(), 'the apartment still answers').to.be.a('number');
    release(probe);
  });
});

describe('apartments/hosts/process-calls: one logical call across processes', () => {
  it('keeps its causality id from the host through a process and a worker and back', async () => {
    const runtime = await startProcessRuntime();
    const { apt } = await processApartment(runtime, { process: 'plugins' });
    const worker = await runtime.createApartment({ name: 'worker' });
    const inProcess = await apt.createObject<Chain>('Chain');
    const inWorker = await worker.createObject<Chain>('Chain');
    const ids = await inProcess.hop([inWorker], true);
    expect(ids, 'the process and the worker saw the call, before and after an await').to.have.length(4);
    expect(new Set(ids).size, `one causality id: ${ids.join(', ')}`).to.equal(1);
    release(inProcess);
    release(inWorker);
  });

  it('refuses one call of a cycle between two processes with DeadlockError naming both, by detection rather than the deadline', async () => {
    const runtime = await startProcessRuntime();
    const left = (await processApartment(runtime, { name: 'left', process: 'left', defaultTimeoutMs: 30_000 })).apt;
    const right = (await processApartment(runtime, { name: 'right', process: 'right', defaultTimeoutMs: 30_000 })).apt;
    const x = await left.createObject<Chain>('Chain');
    const y = await right.createObject<Chain>('Chain');
    const results = await Promise.allSettled([x.pingPong(y, 30), y.pingPong(x, 30)]);
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(failed, 'one call of the cycle is refused').to.have.length(1);
    expect(failed[0]!.reason, String(failed[0]!.reason)).to.be.instanceOf(DeadlockError);
    expect((failed[0]!.reason as Error).message).to.contain("'left'").and.contain("'right'");
    expect(results.filter((r) => r.status === 'fulfilled'), 'the other completes').to.have.length(1);
    release(x);
    release(y);
  });
});

describe('apartments/hosts/process-calls: a value that deserializes far larger than its bytes fails its own call only', () => {
  it('refuses a result of four million empty objects with MarshalError [value-too-large] before sending it, and the apartment serves on', async () => {
    const runtime = await startProcessRuntime();
    const { apt } = await processApartment(runtime, { process: 'plugins' });
    const crasher = await apt.createObject<Crasher>('Crasher');
    // 12 MB serialized, some 290 MB estimated once rebuilt: over the 256 MiB a frame may build.
    const refused = await rejection(crasher.emptyObjects(4_000_000));
    expect(refused, String(refused)).to.be.instanceOf(MarshalError);
    expect((refused as Error).message).to.match(/^\[value-too-large\] result is too large to send: a message of \d+ bytes is more than a process link rebuilds \(it would build more than 268435456 bytes of values once deserialized\)/);
    expect(await crasher.emptyObjects(1_000) as object[], 'fewer cross').to.have.length(1_000);
    expect(apt.state).to.equal('ready');
    release(crasher);
  });
});

describe('apartments/hosts/process-calls: a value larger than a process link carries fails its own call only', () => {
  it('refuses a result and an argument that serialize past 64 MiB with MarshalError [value-too-large], and the apartment serves on', async () => {
    const runtime = await startProcessRuntime();
    const { apt } = await processApartment(runtime, { process: 'plugins' });
    const crasher = await apt.createObject<Crasher>('Crasher');
    // 70 references to one string of 1 MiB: 70 MiB once serialized, as structured clone copies each.
    const result = await rejection(crasher.repeated(70, 1));
    expect(result, String(result)).to.be.instanceOf(MarshalError);
    expect((result as Error).message).to.match(/^\[value-too-large\] result is too large to send: a message of \d+ bytes is larger than a process link carries \(67108864\)/);
    const argument = await rejection(crasher.take('y'.repeat(65 * 2 ** 20)));
    expect(argument, String(argument)).to.be.instanceOf(MarshalError);
    expect((argument as Error).message).to.match(/^\[value-too-large\] args of call 'take' is too large to send/);
    expect(await crasher.repeated(3, 1) as string[], 'a value under the bound crosses').to.have.length(3);
    expect(await crasher.ping()).to.equal('pong');
    expect(apt.state).to.equal('ready');
    release(crasher);
    // An apartment on a later thread of the server, relayed by its main thread: refused the same
    // way, where the relay could only drop it and leave the call unanswered.
    const later = await runtime.createApartment({ process: 'plugins' });
    const relayed = await later.createObject<Crasher>('Crasher');
    const refused = await rejection(relayed.repeated(70, 1));
    expect(refused, String(refused)).to.be.instanceOf(MarshalError);
    expect((refused as Error).message).to.match(/^\[value-too-large\] result is too large to send/);
    expect(await relayed.ping()).to.equal('pong');
    release(relayed);
  });
});
