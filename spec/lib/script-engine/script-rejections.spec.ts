import { expect } from 'chai';
import { ApartmentFaultedError, type LogEntry } from '../../../lib/index.js';
import type { Crasher } from '../../fixtures/crasher.js';
import { eventually } from '../../fixtures/runtime-fixture.js';
import { startEngine } from '../../fixtures/started-engine.js';

const rejections = (logs: LogEntry[]): string[] => logs.filter((e) => e.level === 'warn' && e.message.startsWith('[script-rejection]')).map((e) => e.message);

describe("lib/script-engine: a script's unhandled rejections", () => {
  it('are logged as warnings and leave the apartment serving, however the script rejects', async () => {
    const script = [
      'function own() { Promise.reject(new TypeError("own rejection")); return 1; }',
      'function hosts() { host.fail(); return 2; }',
      // A reason whose every trap would spin: reporting it must run none of them.
      'function trap() { const spin = () => { while (true) {} }; Promise.reject(new Proxy({}, { get: spin, getOwnPropertyDescriptor: spin, getPrototypeOf: spin, has: spin, ownKeys: spin })); return 3; }',
      'function primitive() { Promise.reject("just a string"); return 4; }',
      'function ok() { return "usable"; }',
    ].join('\n');
    const { engine, home, logs } = await startEngine(script, { host: { fail: () => Promise.reject(new Error('host said no')) } });
    expect(await engine.invoke('own')).to.equal(1);
    expect(await engine.invoke('hosts')).to.equal(2);
    expect(await engine.invoke('trap')).to.equal(3);
    expect(await engine.invoke('primitive')).to.equal(4);
    await eventually(() => {
      expect(rejections(logs)).to.have.length(4);
    }, 30_000);
    const logged = rejections(logs).join("\n");
    expect(logged).to.contain('TypeError: own rejection');
    expect(logged).to.contain('Error: host said no');
    expect(logged).to.contain('a proxy');
    expect(logged).to.contain('"just a string"');
    expect(await engine.invoke('ok')).to.equal('usable');
    expect(home.state).to.not.equal('faulted');
  });
});

describe("lib/script-engine: an unhandled rejection of the apartment's own code, beside an engine", () => {
  it('still faults the apartment with its cause, as in an apartment with no engine', async () => {
    const { engine, home } = await startEngine('function ok() { return "usable"; }');
    expect(await engine.invoke('ok')).to.equal('usable');
    const crasher = await home.createObject<Crasher>('Crasher');
    const hang = crasher.hang().catch((e: unknown) => e);
    await crasher.rejectLater('the host code left this');
    const err = await hang;
    expect(err).to.be.instanceOf(ApartmentFaultedError);
    expect(String((err as Error).cause)).to.contain('the host code left this');
    expect(home.state).to.equal('faulted');
  });
});
