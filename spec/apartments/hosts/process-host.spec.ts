import { expect } from 'chai';
import {
  byRef, MarshalError, release, ScriptError, SharedMutex, transfer, type ScriptEngine,
} from '../../../lib/index.js';
import type { Holder } from '../../fixtures/holder.js';
import type { Counter, ProcessProbe } from '../../fixtures/process-probe.js';
import { isRunning, processApartment, rejection, startProcessRuntime, until } from '../../fixtures/process-fixture.js';
import { expectNoExports } from '../../fixtures/runtime-fixture.js';

describe('apartments/hosts/process-host: a named process server hosts the apartment', () => {
  it('runs the apartment in a child process named by its pid, with no thread id', async () => {
    const runtime = await startProcessRuntime();
    const { apt, pid } = await processApartment(runtime, { name: 'in-process', process: 'plugins' });
    expect(pid).to.not.equal(process.pid);
    expect(apt.threadId).to.equal(undefined);
    const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.pid()).to.equal(pid);
    release(probe);
    await apt.close();
    expect(apt.state).to.equal('closed');
    await until('the closed apartment\'s process ends', () => !isRunning(pid));
  });
});

describe('apartments/hosts/process-host: calls, objects and callbacks cross the process boundary both ways', () => {
  it('calls methods, passes callbacks and by-ref objects of the host to the child, and objects of the child to the host', async () => {
    const runtime = await startProcessRuntime();
    const { apt, pid } = await processApartment(runtime, { process: 'plugins' });
    const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
    expect(await probe.callBack((n: number) => n * 10, 4), 'a host function called from the child').to.equal(41);
    const doubler = byRef({ twice: (n: number) => n * 2 });
    expect(await probe.useObject(doubler, 21), 'a host object called from the child').to.equal(42);
    const counter = await probe.makeCounter() as unknown as Counter;
    expect(await counter.increment()).to.equal(1);
    expect(await counter.increment()).to.equal(2);
    expect(await counter.pid(), 'the child\'s object lives in the child').to.equal(pid);
    expect(await probe.callBack(async (n: number) => (await counter.increment()) + n, 100), 'a callback that calls back into the child').to.equal(104);
    release(counter);
    release(probe);
    release(doubler);
    expect((await apt.stats()).exports, 'the child exports nothing once the host released its objects').to.equal(0);
    // The child still holds the host's callbacks (until its garbage collector runs): closing its
    // process releases them.
    await apt.close();
    await until('the host exports nothing', () => runtime.stats().exports === 0);
  });
});

describe('apartments/hosts/process-host: identity holds across the process boundary', () => {
  it('gives the same proxy for the same object both ways, and release empties the export tables on both sides', async () => {
    const runtime = await startProcessRuntime();
    const { apt } = await processApartment(runtime, { process: 'plugins' });
    const holder = await apt.createObject<Holder>('Holder');
    const hostObject = byRef({ name: 'host-side' });
    await holder.keep(hostObject);
    await holder.keep(hostObject);
    expect(await holder.same(hostObject, hostObject), 'one proxy in the child for one host object').to.equal(true);
    const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
    await holder.keep(probe);
    expect(await holder.give(2), 'the child\'s own object comes back as the same proxy').to.equal(probe);
    expect(runtime.stats().exports, 'the host exports its object to the child').to.equal(1);
    // Three kept references, two proxies: releasing a proxy releases all its references at once.
    expect(await holder.releaseAll()).to.equal(2);
    release(probe);
    release(holder);
    release(hostObject);
    await expectNoExports(runtime);
  });
});

describe('apartments/hosts/process-host: values that cannot reach another process are refused', () => {
  it('refuses shared memory, a SharedMutex, moved objects and MessagePorts with a MarshalError naming the path; the link keeps serving', async () => {
    const runtime = await startProcessRuntime();
    const { apt } = await processApartment(runtime, { process: 'plugins' });
    const holder = await apt.createObject<Holder>('Holder');
    const sab = await rejection(holder.keep({ data: { buf: new SharedArrayBuffer(8) } }));
    expect(sab).to.be.instanceOf(MarshalError);
    expect((sab as MarshalError).path).to.equal('args[0].data.buf');
    expect(sab.message).to.match(/^\[no-shared-memory\] args\[0\]\.data\.buf is shared memory, and the 'ipc' link/);
    const mutex = await rejection(holder.keep(new SharedMutex()));
    expect(mutex).to.be.instanceOf(MarshalError);
    expect(mutex.message).to.match(/^\[no-shared-memory\] args\[0\] is a 'shared-mutex' value/);
    const buffer = new ArrayBuffer(8);
    const moved = await rejection(holder.keep(transfer(buffer, [buffer])));
    expect(moved, String(moved)).to.be.instanceOf(MarshalError);
    expect(moved.message).to.match(/^\[link-carries-bytes\]/);
    const { port1, port2 } = new MessageChannel();
    try {
      const port = await rejection(holder.keep({ port: port1 }));
      expect(port, String(port)).to.be.instanceOf(MarshalError);
      expect((port as MarshalError).path).to.equal('args[0].port');
      expect(port.message).to.match(/^\[link-carries-bytes\] args\[0\]\.port is a MessagePort/);
    } finally {
      port1.close();
      port2.close();
    }
    const probe = await apt.createObject<ProcessProbe>('ProcessProbe');
    const result = await rejection(probe.shared());
    expect(result).to.be.instanceOf(MarshalError);
    expect((result as MarshalError).path).to.equal('result');
    expect(await holder.keep('still serving'), 'every refusal failed only its own call').to.equal(1);
    release(probe);
    release(holder);
    await expectNoExports(runtime);
  });
});

describe('apartments/hosts/process-host: a script engine runs in a process apartment', () => {
  it('parses and runs a script there, and a script that throws fails with ScriptError', async () => {
    const runtime = await startProcessRuntime();
    const { apt } = await processApartment(runtime, { process: 'scripts' });
    const engine = await apt.createObject<ScriptEngine>('ScriptEngine');
    await engine.setSite(byRef({}));
    await engine.parseScriptText('function add(a, b) { return a + b; } function boom() { throw new Error("scripted"); }');
    await engine.setState('started');
    expect(await engine.invoke('add', 40, 2)).to.equal(42);
    const err = await engine.invoke('boom').then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ScriptError);
    release(engine);
    await apt.close();
  });
});
