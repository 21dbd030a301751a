import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { AccessDeniedError, CallTimeoutError, InvalidArgumentError, ScriptError, bindScriptEngineApi, interruptScript, type Remote, type ScriptEngine } from '../../../lib/index.js';
import type { Chain } from '../../fixtures/admission-classes.js';
import type { EngineUser } from '../../fixtures/engine-user.js';
import type { HostilePlugin } from '../../fixtures/hostile-plugin.js';
import { remoteStateOf } from '../../../marshal/proxy.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';
import { startEngine, startEngineWithUser } from '../../fixtures/started-engine.js';

/** Interrupt until the engine reports it stopped something (the call may not have started yet). */
async function interruptUntilStopped(user: Remote<EngineUser>, engine: Remote<ScriptEngine>): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    const stopped = await user.interrupt(engine);
    if (stopped) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

describe('lib/script-engine interrupt: a script suspended in an await', () => {
  it('settles the awaiting call with [interrupted], in any apartment, and the engine stays usable', async () => {
    for (const asyncCausality of [false, true]) {
      const { rt, engine, user } = await startEngineWithUser('async function wait() { return await host.never(); }\nfunction ok() { return "usable"; }', { asyncCausality, host: { never: () => new Promise(() => {}) } });
      const pending = engine.invoke('wait').catch((e: unknown) => e);
      expect(await interruptUntilStopped(user, engine), `asyncCausality ${asyncCausality}`).to.equal(true);
      const err = (await pending) as ScriptError;
      expect(err).to.be.instanceOf(ScriptError);
      expect(err.message).to.contain('[interrupted]');
      expect(await engine.invoke('ok')).to.equal('usable');
      expect(await user.interrupt(engine), 'nothing left to interrupt').to.equal(false);
      await rt.close();
    }
  });
});

describe('lib/script-engine interrupt: an interrupt sent as a busy loop starts', () => {
  it('is never held behind the loop: it stops the run or answers at once, round after round', async () => {
    const { engine, user } = await startEngineWithUser('function spin() { while (true) {} } function ok() { return "usable"; }', { asyncCausality: true });
    for (let round = 0; round < 40; round++) {
      const pending = engine.invoke('spin').catch((e: unknown) => e);
      // Sent at once: it may reach the apartment just after the loop began, behind it.
      const first = await user.interrupt(engine);
      expect(first || (await interruptUntilStopped(user, engine)), `round ${round}`).to.equal(true);
      expect(String(await pending)).to.contain('[interrupted]');
      expect(await engine.invoke('ok')).to.equal('usable');
    }
  });
});

describe('lib/script-engine interrupt: a busy loop in an apartment that follows calls across awaits', () => {
  it('is stopped, on every Node line, and the apartment keeps following calls across awaits', async () => {
    const { engine, user, home } = await startEngineWithUser('var entered = 0; function spin() { entered++; Atomics.store(spinning, 0, 1); while (true) {} } function count() { return entered; }', { asyncCausality: true });
    // The script says it spins through shared memory, so each interrupt is sent while it surely runs.
    const spinning = new Int32Array(new SharedArrayBuffer(4));
    await engine.addNamedItem('spinning', spinning);
    const chain = await home.createObject<Chain>('Chain');
    for (let round = 1; round <= 3; round++) {
      Atomics.store(spinning, 0, 0);
      const hopping = chain.hop([], true);
      const pending = engine.invoke('spin').catch((e: unknown) => e);
      while (Atomics.load(spinning, 0) === 0) await new Promise((r) => setTimeout(r, 2));
      expect(await user.interrupt(engine), `round ${round}`).to.equal(true);
      const err = (await pending) as ScriptError;
      expect(err).to.be.instanceOf(ScriptError);
      expect(err.message).to.contain('[interrupted]');
      expect(await engine.invoke('count'), 'the engine keeps its state').to.equal(round);
      const [before, after] = await hopping;
      expect(after, 'a call in flight keeps its causality across its await').to.equal(before);
    }
    expect(await user.interrupt(engine), 'nothing left to interrupt').to.equal(false);
  });
});

describe('lib/script-engine interrupt: interrupts racing short scripts', () => {
  it('stop only script runs: the apartment survives, every call settles, and its other objects keep answering', async () => {
    // Runs that end while an interrupt is on its way: the stop must land in the run (or be
    // released), never in the runtime code that follows it on the thread.
    const { engine, user, home } = await startEngineWithUser('var runs = 0; function short(n) { runs++; for (let i = 0; i < n; i++) {} return runs; } async function hop() { await null; return runs; } function count() { return runs; }', { asyncCausality: true });
    const chain = await home.createObject<Chain>('Chain');
    for (let round = 0; round < 60; round++) {
      // Runs of about a microsecond to a few milliseconds, so interrupts land before, in and after them.
      const n = 10 ** (2 + (round % 5));
      const calls = [engine.invoke('short', n), engine.invoke('hop'), engine.invokeWithin(5_000, 'short', n), chain.hop([], true)].map((p) => (p as Promise<unknown>).then(() => 'ok', (e: unknown) => e));
      await Promise.all([user.interrupt(engine), user.interrupt(engine)]);
      for (const outcome of await Promise.all(calls)) {
        if (outcome === 'ok') continue;
        expect(outcome, String(outcome)).to.be.instanceOf(ScriptError);
        expect((outcome as Error).message).to.contain('[interrupted]');
      }
    }
    expect(await engine.invoke('count'), 'the engine still answers').to.be.a('number');
    expect((await chain.hop([], true)).length, 'the apartment still serves its other objects').to.equal(2);
  });
});

describe('lib/script-engine interrupt: a run stopped just after it handed over a promise', () => {
  it('settles the call once and leaves no wait behind to interrupt later', async () => {
    // The synchronous part of wait() is long enough for some interrupts to claim it; some of those
    // stops land after it returned its promise, while the run waits in its turn for them.
    const { engine, user } = await startEngineWithUser('async function wait() { for (let i = 0; i < 20000; i++); return await host.never(); } function ok() { return "usable"; }', { asyncCausality: true, host: { never: () => new Promise(() => {}) } });
    for (let round = 0; round < 100; round++) {
      const pending = engine.invoke('wait').catch((e: unknown) => e);
      expect(await interruptUntilStopped(user, engine), `round ${round}`).to.equal(true);
      expect(String(await pending)).to.contain('[interrupted]');
      expect(await engine.invoke('ok')).to.equal('usable');
      expect(await user.interrupt(engine), `round ${round}: nothing left to interrupt`).to.equal(false);
    }
  });
});

describe('lib/script-engine interrupt: a time-limited run stopped as it hands over a promise that fails later', () => {
  it('settles every call, and neither the cut-off await nor the time limit harms the apartment', async () => {
    // The stop can land anywhere in the turn that hands the promise over, including where the time
    // limit's timer would be armed; and an await it cuts off leaves a script promise that rejects
    // when what it awaited fails, with nothing in the script to handle it.
    const failLater = (): Promise<never> => new Promise((_, reject) => setTimeout(() => reject(new Error('failed later')), 20));
    const { engine, user, home } = await startEngineWithUser('async function wait() { for (let i = 0; i < 20000; i++); return await host.failLater(); } function ok() { return "usable"; }', { asyncCausality: true, host: { failLater } });
    for (let round = 0; round < 100; round++) {
      let settled = false;
      const pending = engine.invokeWithin(60_000, 'wait').catch((e: unknown) => e).finally(() => (settled = true));
      while (!settled && !(await user.interrupt(engine))) await new Promise((r) => setTimeout(r, 1));
      const outcome = String(await pending);
      expect(outcome.includes('[interrupted]') || outcome.includes('failed later'), `round ${round}: ${outcome}`).to.equal(true);
      expect(await engine.invoke('ok')).to.equal('usable');
    }
    // Every host promise has failed by now (20 ms each): the apartment is still there.
    await new Promise((r) => setTimeout(r, 100));
    expect(await engine.invoke('ok')).to.equal('usable');
    expect(home.state).to.equal('ready');
  });
});

describe('lib/script-engine interrupt: a busy loop under its own time limit', () => {
  it('ends once, by the interrupt or by the limit, and the engine stays usable, however the two coincide', async () => {
    const { engine, user } = await startEngineWithUser('function spin() { Atomics.store(spinning, 0, 1); while (true) {} } function ok() { return "usable"; }', { asyncCausality: true });
    const spinning = new Int32Array(new SharedArrayBuffer(4));
    await engine.addNamedItem('spinning', spinning);
    // Limits from 1 to 25 ms, the interrupt sent at once or about when the limit strikes: some of
    // these runs meet both at the same moment, where V8 takes the interrupt and Node cancels it
    // for the limit. A very short limit may strike before the script's first statement.
    const outcomes = { limit: 0, interrupt: 0 };
    for (let round = 0; round < 75; round++) {
      const limitMs = 1 + (round % 25);
      Atomics.store(spinning, 0, 0);
      let settled: unknown;
      const pending = engine.invokeWithin(limitMs, 'spin').catch((e: unknown) => e);
      void pending.then((e) => (settled = e));
      while (Atomics.load(spinning, 0) === 0 && settled === undefined) await new Promise((r) => setTimeout(r, 1));
      if (round % 3 === 1) await new Promise((r) => setTimeout(r, limitMs - 1));
      await user.interrupt(engine);
      const err = (await pending) as Error;
      const byLimit = err instanceof CallTimeoutError;
      expect(byLimit || (err instanceof ScriptError && err.message.includes('[interrupted]')), `round ${round}: ${String(err)}`).to.equal(true);
      outcomes[byLimit ? 'limit' : 'interrupt']++;
      expect(await engine.invoke('ok')).to.equal('usable');
    }
    expect(outcomes.interrupt, 'some runs are stopped by the interrupt').to.be.greaterThan(0);
  });
});

describe('lib/script-engine interrupt: host code a script calls', () => {
  it('is never stopped: an interrupt sent while it runs finds no script to stop', async () => {
    const { engine, home } = await startEngineWithUser('function callHost() { return local.holdUntil(flag); }', { asyncCausality: true });
    // The host object lives in the engine's apartment, so the script's call runs it right there.
    const local = await home.createObject<EngineUser>('EngineUser');
    const flag = new Int32Array(new SharedArrayBuffer(12));
    await engine.addNamedItem('local', local);
    await engine.addNamedItem('flag', flag);
    const call = engine.invoke('callHost').catch((e: unknown) => e);
    while (Atomics.load(flag, 1) === 0) await new Promise((r) => setTimeout(r, 2));
    // The interrupt reaches the main apartment while the host code holds the thread; it is given
    // time to do its harm (a stop landing in the host code) before the host code is let go.
    const interrupting = interruptScript(engine);
    await new Promise((r) => setTimeout(r, 100));
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    const outcome = await call;
    expect(Atomics.load(flag, 2), 'the host code ran to its end').to.equal(1);
    if (outcome === 'host code finished') {
      expect(await interrupting, 'there was no script to stop').to.equal(false);
    } else {
      // On a machine slow enough that the interrupt reached the gate only after the host code had
      // returned, it may stop the script's last steps: that, and only that, is allowed.
      expect(String(outcome)).to.contain('[interrupted]');
      expect(await interrupting).to.equal(true);
    }
  });
});

describe('lib/script-engine interrupt: only the host and holders of the engine may interrupt it', () => {
  it('refuses an apartment that names the engine by its ids without holding it, running or awaiting; the main apartment may', async () => {
    let awaited = false;
    const never = (): Promise<never> => {
      awaited = true;
      return new Promise(() => {});
    };
    const { rt, engine, home } = await startEngineWithUser('function spin() { Atomics.store(spinning, 0, 1); while (true) {} } async function wait() { return await host.never(); }', { asyncCausality: true, host: { never } });
    rt.registerClass('HostilePlugin', { module: fixture('hostile-plugin.js'), export: 'HostilePlugin' });
    const hostile = await (await rt.createApartment({ name: 'plugin' })).createObject<HostilePlugin>('HostilePlugin');
    const spinning = new Int32Array(new SharedArrayBuffer(4));
    await engine.addNamedItem('spinning', spinning);
    const { oid } = remoteStateOf(engine)!;
    // The engine serves one call at a time: first a spinning call, then an awaiting one.
    const spin = engine.invoke('spin').catch((e: unknown) => e);
    while (Atomics.load(spinning, 0) === 0) await new Promise((r) => setTimeout(r, 2));
    const refusedRunning = await hostile.control(0, 'script.interrupt', home.id, oid, randomUUID()).catch((e: unknown) => e);
    const refusedEmpty = await hostile.control(0, 'script.interrupt', home.id, oid, '').catch((e: unknown) => e);
    expect(await interruptScript(engine), 'the main apartment stops the spin').to.equal(true);
    expect(((await spin) as Error).message).to.contain('[interrupted]');
    const awaiting = engine.invoke('wait').catch((e: unknown) => e);
    // The script awaits once it has called the host. A refusal proves nothing before that, and an
    // interrupt before that finds nothing to settle (the engine may start the call after this
    // apartment's control requests, which pass its queue).
    while (!awaited) await new Promise((r) => setTimeout(r, 2));
    const refusedAwaiting = await hostile.control(0, 'script.interrupt', home.id, oid, randomUUID()).catch((e: unknown) => e);
    for (const refusal of [refusedRunning, refusedEmpty, refusedAwaiting]) {
      expect(refusal).to.be.instanceOf(AccessDeniedError);
      expect((refusal as Error).message).to.contain('[interrupt-denied]');
    }
    expect(await interruptScript(engine), 'the main apartment settles the awaiting call').to.equal(true);
    expect(((await awaiting) as Error).message).to.contain('[interrupted]');
  });
});

describe('lib/script-engine interrupt: through the typed proxy bindScriptEngineApi makes', () => {
  it('stops the script as through the engine proxy it was bound from', async () => {
    const { engine } = await startEngine('function spin() { Atomics.store(spinning, 0, 1); while (true) {} }');
    const spinning = new Int32Array(new SharedArrayBuffer(4));
    await engine.addNamedItem('spinning', spinning);
    const api = await bindScriptEngineApi(engine);
    const spin = api.invoke('spin').catch((e: unknown) => e);
    while (Atomics.load(spinning, 0) === 0) await new Promise((r) => setTimeout(r, 2));
    // Before: InvalidArgumentError [interrupt], saying the engine was of this apartment.
    expect(await interruptScript(api)).to.equal(true);
    expect(((await spin) as Error).message).to.contain('[interrupted]');
  });
});

describe('lib/script-engine interrupt: what cannot be interrupted says so', () => {
  it('refuses an engine of the calling apartment, and anything that is not an engine proxy', async () => {
    const { rt } = await startRuntime();
    const local = await rt.createInstance<ScriptEngine>('ScriptEngine');
    expect(await interruptScript(local).catch((e: unknown) => e)).to.be.instanceOf(InvalidArgumentError);
    expect(await interruptScript({}).catch((e: unknown) => e)).to.be.instanceOf(InvalidArgumentError);
  });
});
