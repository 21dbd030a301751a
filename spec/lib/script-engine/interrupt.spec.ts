import { expect } from 'chai';
import {
  ApartmentError, CallTimeoutError, InvalidArgumentError, ScriptError, byRef, interruptScript, type Apartment, type Remote, type Runtime, type ScriptEngine,
} from '../../../lib/index.js';
import { asyncContextWithoutHooks } from '../../../apartments/node-features.js';
import type { Chain } from '../../fixtures/admission-classes.js';
import type { EngineUser } from '../../fixtures/engine-user.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';

/** A started engine in its own apartment, a user in another, and `host` (of the main apartment) as a named item. */
async function setup(asyncCausality: boolean, script: string, host: object = {}): Promise<{ rt: Runtime; engine: Remote<ScriptEngine>; user: Remote<EngineUser>; home: Apartment }> {
  const { rt } = await startRuntime();
  rt.registerClass('EngineUser', { module: fixture('engine-user.js'), export: 'EngineUser' });
  const home = await rt.createApartment({ name: 'engine-home', asyncCausality });
  const engine = await home.createObject<ScriptEngine>('ScriptEngine');
  const user = await (await rt.createApartment({ name: 'user' })).createObject<EngineUser>('EngineUser');
  await engine.setSite(byRef({}));
  await engine.addNamedItem('host', byRef(host));
  await engine.parseScriptText(script);
  await engine.setState('started');
  return { rt, engine, user, home };
}

/**
 * Interrupt until the engine reports it stopped something (the call may not have started yet). An
 * interrupt that lands while the script's synchronous part runs, in an apartment where that cannot
 * be stopped, is refused with [interrupt-unsafe]: that instant passes, so try again.
 */
async function interruptUntilStopped(user: Remote<EngineUser>, engine: Remote<ScriptEngine>): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    const stopped = await user.interrupt(engine).catch((e: unknown) => {
      if (e instanceof ApartmentError && e.message.includes('[interrupt-unsafe]')) return false;
      throw e;
    });
    if (stopped) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

describe('lib/script-engine interrupt: a script suspended in an await', () => {
  it('settles the awaiting call with [interrupted], in any apartment, and the engine stays usable', async () => {
    for (const asyncCausality of [false, true]) {
      const { rt, engine, user } = await setup(asyncCausality, 'async function wait() { return await host.never(); }\nfunction ok() { return "usable"; }', { never: () => new Promise(() => {}) });
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

// Stopping a script mid-turn leaves Node's async-id stack unbalanced, which only a thread with async
// hooks on checks (and dies of). Where AsyncLocalStorage needs no async hooks (Node 24), an
// apartment that follows calls across awaits can be interrupted; elsewhere it is refused.
const withoutHooks = await asyncContextWithoutHooks();

describe('lib/script-engine interrupt: a busy loop in an apartment that follows calls across awaits', () => {
  it(withoutHooks
    ? 'is stopped (AsyncLocalStorage needs no async hooks here); the apartment keeps following calls across awaits'
    : 'is refused, naming the fix (AsyncLocalStorage uses async hooks here); the time limit still stops it', async () => {
    const { engine, user, home } = await setup(true, 'var entered = 0; function spin() { entered++; Atomics.store(spinning, 0, 1); while (true) {} } function count() { return entered; }');
    // The script says it spins through shared memory, so each interrupt is sent while it surely runs.
    const spinning = new Int32Array(new SharedArrayBuffer(4));
    await engine.addNamedItem('spinning', spinning);
    if (withoutHooks) {
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
      return;
    }
    const pending = engine.invokeWithin(1_000, 'spin').catch((e: unknown) => e);
    let refusal: unknown;
    for (let i = 0; i < 200 && refusal === undefined; i++) {
      refusal = await user.interrupt(engine).then(() => undefined, (e: unknown) => e);
      if (refusal === undefined) await new Promise((r) => setTimeout(r, 5));
    }
    expect(refusal).to.be.instanceOf(ApartmentError);
    expect((refusal as ApartmentError).code).to.equal('E_UNEXPECTED');
    expect((refusal as Error).message).to.contain('[interrupt-unsafe]').and.contain('asyncCausality: false');
    expect(await pending, 'the time limit still stops it').to.be.instanceOf(CallTimeoutError);
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
