import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Runtime } from '../../lib/index.js';
import { eventually, fixture, startRuntime } from '../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

describe('apartments/idle: idle apartments do not keep the process alive', () => {
  it('lets a host that never closes its runtime exit on its own', async () => {
    const child = spawn(process.execPath, [fileURLToPath(fixture('forgetful-host.js'))], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    clearTimeout(killer);
    expect(out).to.equal('answer 42\n');
    expect(code, 'exited by itself, not killed').to.equal(0);
  });
});

describe('apartments/idle: idle timeout', () => {
  it('closes an apartment left with nothing referenced for its idle timeout', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ idleTimeoutMs: 50 });
    const calc = await apt.createObject<{ add(n: number): Promise<number> }>('Calc');
    await calc.add(1);
    await new Promise((r) => setTimeout(r, 120));
    expect(apt.state).to.equal('ready');
    calc[Symbol.dispose]();
    await eventually(() => {
      expect(apt.state).to.equal('closed');
    });
  });
});

describe('apartments/idle: an idle timeout of Infinity', () => {
  it('never closes the apartment, where a Node timer of that length fired after 1 ms', async () => {
    ({ rt } = await startRuntime());
    const never = await rt.createApartment({ name: 'never', idleTimeoutMs: Infinity });
    const kept = await never.createObject<{ add(n: number): Promise<number> }>('Calc');
    // Its object made at once: an apartment with nothing referenced from its start counts as idle.
    const soon = await rt.createApartment({ name: 'soon', idleTimeoutMs: 1_000 });
    const dropped = await soon.createObject<{ add(n: number): Promise<number> }>('Calc');
    await kept.add(1);
    await dropped.add(1);
    kept[Symbol.dispose]();
    dropped[Symbol.dispose]();
    // The apartment released second, with a 1 s timeout, closes; the one released first stays.
    await eventually(() => {
      expect(soon.state).to.equal('closed');
    });
    expect(never.state).to.equal('ready');
  });
});
