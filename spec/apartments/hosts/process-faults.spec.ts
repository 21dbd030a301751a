import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  ApartmentFaultedError, byRef, CallRejectedError, pipeline, DisconnectedError, ProtocolError, release, type Apartment, type ApartmentOptions, type Remote, type Runtime,
} from '../../../lib/index.js';
import type { Crasher } from '../../fixtures/crasher.js';
import type { Holder } from '../../fixtures/holder.js';
import type { ProcessProbe } from '../../fixtures/process-probe.js';
import { isRunning, processApartment, rejection, startProcessRuntime, until } from '../../fixtures/process-fixture.js';
import { fixture } from '../../fixtures/runtime-fixture.js';

/** What a fault scenario gives its trigger. */
interface Victim {
  readonly apt: Apartment;
  readonly pid: number;
  readonly crasher: Remote<Crasher>;
}

/**
 * Start a process apartment that holds a host object and has a call in flight, fault it with
 * `trigger`, and check what every fault must leave behind: the call failed with the fault, the
 * apartment's objects are disconnected, the host object it held is released, the process is gone,
 * and the host starts a new process under the same name. Returns the fault.
 */
async function faultScenario(options: ApartmentOptions, trigger: (victim: Victim) => unknown): Promise<ApartmentFaultedError> {
  const runtime: Runtime = await startProcessRuntime();
  const { apt, pid } = await processApartment(runtime, { process: 'fragile', ...options });
  const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
  const holder = await apt.createObject<Holder>('Holder');
  const crasher = await apt.createObject<Crasher>('Crasher');
  const hostObject = byRef({ poke: () => 'poked' });
  await holder.keep(hostObject);
  expect(runtime.stats().exports, 'the child holds a host object').to.equal(1);
  const faulted = new Promise<ApartmentFaultedError>((resolve) => apt.once('fault', resolve));
  const inFlight = rejection(probe.hang());
  // A trigger that is a call into the dying process fails with the fault, like the call in flight.
  void Promise.resolve().then(() => trigger({ apt, pid, crasher })).catch(() => undefined);

  const err = await faulted;
  expect(err).to.be.instanceOf(ApartmentFaultedError);
  expect(await inFlight, 'the call in flight failed with the fault').to.equal(err);
  expect(apt.state).to.equal('faulted');
  const later = await rejection(holder.give(0));
  expect(later, 'the dead process\'s objects are disconnected').to.be.instanceOf(DisconnectedError);
  await until('the host releases what the dead process held', () => runtime.stats().exports === 0);
  await until('the process is gone', () => !isRunning(pid));
  release(hostObject);

  const { apt: again } = await processApartment(runtime, { process: 'fragile' });
  const fresh = await again.createObject<ProcessProbe>('ProcessProbe');
  expect(await fresh.pid(), 'the host starts a new process under the same name').to.not.equal(pid);
  release(fresh);
  return err;
}

describe('apartments/hosts/process-faults: a process killed with SIGKILL', () => {
  it('faults its apartment with the signal in the cause and leaves the host working', async () => {
    const err = await faultScenario({ name: 'victim' }, ({ pid }) => void process.kill(pid, 'SIGKILL'));
    expect((err.cause as Error).message).to.match(/^process \d+ was killed by SIGKILL/);
    expect(err.message, 'the fault names the apartment and its process server').to.match(/^\[apartment-faulted\] apartment 'victim' \(\d+\) in process 'fragile' failed/);
  });
});

describe('apartments/hosts/process-faults: a process that crashes with SIGSEGV, as a native addon does', () => {
  it('faults only its apartment, with the signal in the cause', async () => {
    const err = await faultScenario({}, ({ pid }) => void process.kill(pid, 'SIGSEGV'));
    expect((err.cause as Error).message).to.match(/^process \d+ was killed by SIGSEGV/);
  });
});

describe('apartments/hosts/process-faults: a process that calls process.exit', () => {
  it('faults its apartment with the exit code in the cause', async () => {
    const err = await faultScenario({}, ({ crasher }) => crasher.exit(3));
    expect((err.cause as Error).message).to.match(/^process \d+ exited with code 3/);
  });
});

describe('apartments/hosts/process-faults: a process over its heap cap', () => {
  it('dies of out-of-memory under resourceLimits.maxOldGenerationSizeMb, with the end of its stderr in the cause', async () => {
    const err = await faultScenario({ resourceLimits: { maxOldGenerationSizeMb: 32 } }, ({ crasher }) => crasher.exhaustMemory());
    expect((err.cause as Error).message).to.match(/^process \d+ (was killed by SIG[A-Z]+|exited with code \d+); [^]*FATAL ERROR: [^\n]*out of memory/);
  });
});

describe('apartments/hosts/process-faults: a process whose stderr has a fatal line as long as it likes', () => {
  it('quotes at most the start of that line in the cause, as it quotes at most the end of its stderr', async () => {
    const err = await faultScenario({}, ({ crasher }) => crasher.fatalLine(5_000));
    const message = (err.cause as Error).message;
    expect(message).to.match(/^process \d+ exited with code 134; it reported FATAL ERROR: x+…; its stderr ended with: x+$/);
    expect(message.length, 'the cause quotes the child bounded').to.be.below(3_000);
  });

  it('quotes a short fatal line whole when the end of its stderr no longer holds it', async () => {
    const err = await faultScenario({}, ({ crasher }) => crasher.fatalLine(40, 3_000));
    expect((err.cause as Error).message).to.match(new RegExp(`^process \\d+ exited with code 134; it reported FATAL ERROR: x{40}; its stderr ended with: y+$`));
  });
});

describe('apartments/hosts/process-faults: a process that throws an uncaught error', () => {
  it('faults its apartment with the error from the end of its stderr in the cause', async () => {
    const err = await faultScenario({}, ({ crasher }) => crasher.throwLater('boom in the process'));
    expect((err.cause as Error).message).to.match(/^process \d+ exited with code 1; its stderr ended with: [^]*boom in the process/);
  });
});

describe('apartments/hosts/process-faults: a process that breaks its channel\'s framing, as a hostile plugin can', () => {
  it('is cut off at a frame head claiming 4 GiB, before any of it is read, and the host works on', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const err = await faultScenario({}, ({ crasher }) => crasher.breakFrame('head'));
    expect(err.cause).to.be.instanceOf(ProtocolError);
    expect((err.cause as Error).message).to.match(/^\[pipe-frame\] process \d+ sent a frame of 4294967295 bytes \(1 to 67108864 allowed\)/);
    expect(process.memoryUsage().heapUsed - heapBefore, 'the host kept nothing of the frame').to.be.below(64 * 2 ** 20);
  });

  it('is cut off at a well-formed frame that would deserialize into hundreds of megabytes, before it is built', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const err = await faultScenario({}, ({ crasher }) => crasher.breakFrame('amplified'));
    expect(err.cause).to.be.instanceOf(ProtocolError);
    expect((err.cause as Error).message).to.match(/^\[pipe-frame\] process \d+ sent a frame that is not one serialized value the channel takes \(it would build more than 268435456 bytes of values once deserialized\)/);
    expect(process.memoryUsage().heapUsed - heapBefore, 'the host built nothing of it').to.be.below(64 * 2 ** 20);
  });

  it('is cut off at a frame whose bytes are not one serialized value', async () => {
    const err = await faultScenario({}, ({ crasher }) => crasher.breakFrame('body'));
    expect(err.cause).to.be.instanceOf(ProtocolError);
    expect((err.cause as Error).message).to.match(/^\[pipe-frame\] process \d+ sent a frame that is not one serialized value/);
  });
});

describe('apartments/hosts/process-faults: a process that closes its apartment\'s link and stays, as a hostile plugin can', () => {
  it('faults the apartment once the grace for its end has passed, instead of leaving every call to its deadline', async () => {
    const err = await faultScenario({}, ({ crasher }) => crasher.breakFrame('close'));
    expect(err.cause).to.be.instanceOf(ProtocolError);
    expect((err.cause as Error).message).to.match(/^\[link-closed\] process \d+ closed the apartment's link and did not end it within 10000 ms/);
  });
});

describe('apartments/hosts/process-faults: a process that stops reading its channel', () => {
  it('is sent no more once it leaves the bound unread: later calls fail at once (retry later), and those it took are answered when it reads again', async () => {
    const runtime = await startProcessRuntime();
    // Heartbeats far apart: the process is stopped on purpose and must not be killed as hung meanwhile.
    const { apt, pid } = await processApartment(runtime, { process: 'unread', heartbeat: { periodMs: 600_000, misses: 10 } });
    const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
    process.kill(pid, 'SIGSTOP');
    const chunk = 8 * 2 ** 20;
    const taken: Promise<number>[] = [];
    let refused: unknown;
    for (let i = 0; i < 64 && refused === undefined; i++) {
      let outcome: unknown;
      const call = probe.size(new Uint8Array(chunk));
      call.catch((err: unknown) => (outcome = err));
      // A call leaves in the batch its turn flushes; a refusal settles it before the next turn.
      await new Promise((resolve) => setImmediate(resolve));
      if (outcome === undefined) taken.push(call);
      else refused = outcome;
    }
    expect(refused).to.be.instanceOf(CallRejectedError);
    expect((refused as CallRejectedError).code).to.equal('RPC_E_SERVERCALL_RETRYLATER');
    expect((refused as Error).message).to.match(/^\[pipe-backlog\] process \d+ has left \d+ bytes this side wrote unread \(at most 134217728\)/);
    // 128 MiB unread in the host's stream, and what the kernel's socket buffers took before it.
    expect(taken.length, 'calls written before the refusal').to.be.within(16, 20);
    // A call on a call's result leaves in the same batch as that call, and is refused with it.
    const piped = pipeline(probe).makeCounter();
    const outcomes = await Promise.allSettled([piped, piped.increment()]);
    for (const outcome of outcomes) expect((outcome as PromiseRejectedResult).reason, 'the pipelined pair').to.be.instanceOf(CallRejectedError);
    process.kill(pid, 'SIGCONT');
    expect(await Promise.all(taken), 'every call it took is answered').to.deep.equal(taken.map(() => chunk));
    expect(await probe.size(new Uint8Array(10)), 'and it takes calls again').to.equal(10);
    expect(apt.state).to.equal('ready');
    release(probe);
  });
});

describe('apartments/hosts/process-faults: a process busy in a long synchronous call is not taken for hung', () => {
  it('answers its heartbeats from a thread of its own while its apartment computes far longer than the heartbeat allows', async () => {
    const runtime = await startProcessRuntime();
    // Five unanswered pings of 100 ms would end it; the call holds the apartment six times as long.
    const { apt, pid } = await processApartment(runtime, { process: 'busy', heartbeat: { periodMs: 100, misses: 5 } });
    const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
    let faulted = false;
    apt.once('fault', () => (faulted = true));
    expect(await probe.busy(3_000), 'the busy call finished in the same process').to.equal(pid);
    expect(faulted, 'no fault while it computed').to.equal(false);
    expect(apt.state).to.equal('ready');
    expect(await probe.pid(), 'and it serves on').to.equal(pid);
    release(probe);
  });
});

describe('apartments/hosts/process-faults: a hung process (SIGSTOP) is found by the heartbeat', () => {
  it('faults its apartment once the configured number of heartbeats go unanswered, and kills the process', async () => {
    // Ten unanswered pings half a second apart: long enough that a busy machine does not fake a hang.
    const err = await faultScenario({ heartbeat: { periodMs: 500, misses: 10 } }, ({ pid }) => void process.kill(pid, 'SIGSTOP'));
    expect((err.cause as Error).message).to.match(/^process \d+ answered none of the last 10 heartbeats \(one every 500 ms\): it is hung or stopped, so it was killed$/);
  });
});

describe('apartments/hosts/process-faults: a process apartment never outlives its host', () => {
  const modes = { 'exits': 'exit', 'ends without closing its runtime': 'forget', 'is killed': 'wait' } as const;
  for (const [how, mode] of Object.entries(modes)) {
    it(`ends the child process when the host process ${how}`, async () => {
      const parent = spawn(process.execPath, [...process.execArgv, fileURLToPath(fixture('process-parent.js')), mode], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      let childPid = 0;
      try {
        parent.stdout.setEncoding('utf8');
        let out = '';
        parent.stdout.on('data', (chunk: string) => {
          out += chunk;
        });
        await until('the host prints its process apartment', () => /process (\d+)\n/.test(out));
        childPid = Number(/process (\d+)\n/.exec(out)![1]);
        expect(isRunning(childPid)).to.equal(true);
        if (mode === 'wait') parent.kill('SIGKILL');
        else parent.stdin.end('end\n');
        if (parent.exitCode === null && parent.signalCode === null) await once(parent, 'exit');
        await until('the child process ends with its host', () => !isRunning(childPid));
      } finally {
        if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
        if (childPid > 0 && isRunning(childPid)) process.kill(childPid, 'SIGKILL');
      }
    });
  }
});

describe('apartments/hosts/process-faults: the restart policy works for process apartments', () => {
  it('starts a replacement process under the same name when the process dies', async () => {
    const runtime = await startProcessRuntime();
    const { apt, pid } = await processApartment(runtime, { name: 'restarted', process: 'phoenix', restart: 'on-fault', maxRestarts: 1 });
    const restarted = new Promise<Apartment>((resolve) => runtime.once('apartment-restarted', (_faulted, replacement) => resolve(replacement)));
    process.kill(pid, 'SIGKILL');
    const replacement = await restarted;
    await replacement.ready;
    const newPid = Number(/^process (\d+)$/.exec(replacement.hostIdentity)?.[1]);
    expect(newPid).to.be.greaterThan(0).and.not.equal(pid);
    const probe = await replacement.createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.pid()).to.equal(newPid);
    expect(apt.replacement).to.equal(replacement);
    release(probe);
    await replacement.close();
    await until('the replacement process ends', () => !isRunning(newPid));
  });
});
