import { expect } from 'chai';
import { ApartmentFaultedError, CallTimeoutError, ScriptError } from '../../../lib/index.js';
import type { EngineUser } from '../../fixtures/engine-user.js';
import { startEngine, startEngineWithUser } from '../../fixtures/started-engine.js';

// Code a script queues as promise jobs (after an `await`, in a `.then`) runs where its run's time
// limit and interruptScript reach it, however late it runs: it cannot wedge the apartment. That
// holds where async_hooks' promise hooks are off in the engine's thread: in an apartment with
// asyncCausality: false on every Node line, and in any apartment on Node 24, whose
// AsyncLocalStorage needs no hooks (docs/script-engine.md).
const SCRIPT = `
async function afterAwait() { await null; while (true) {} }
function storm() { const p = Promise.resolve(); (function loop() { p.then(loop); })(); return 'returned'; }
function background() { (async () => { await null; while (true) {} })(); return 'returned'; }
async function afterHost() { await host.later(); Atomics.store(spinning, 0, 1); while (true) {} }
async function sum() { const v = await host.later(); return v + (await host.later()); }
function ok() { return 'usable'; }
`;
const host = { later: () => new Promise<number>((resolve) => setTimeout(() => resolve(20), 10)) };
const nodeMajor = Number(process.versions.node.split('.')[0]);
/** Apartment settings whose thread keeps promise hooks off. */
const hooksOff: { asyncCausality?: boolean; what: string }[] = [
  { asyncCausality: false, what: 'asyncCausality: false' },
  ...(nodeMajor >= 24 ? [{ what: 'default settings (Node 24 and later)' }] : []),
];

describe('lib/script-engine microtasks: promise jobs a run queues run inside it', () => {
  for (const { asyncCausality, what } of hooksOff) {
    it(`stops code after an await, a then-storm and a background async function at the run's time limit, and the engine answers after each (${what})`, async () => {
      const { engine } = await startEngine(SCRIPT, { host, asyncCausality });
      for (const name of ['afterAwait', 'storm', 'background']) {
        const err = await engine.invokeWithin(300, name).catch((e: unknown) => e);
        expect(err, name).to.be.instanceOf(CallTimeoutError);
        expect((err as Error).message, name).to.match(/^\[script-timeout\]/);
        expect(await engine.invoke('ok'), name).to.equal('usable');
      }
    });
  }
});

describe('lib/script-engine microtasks: promise jobs queued when host code settles what a script awaits', () => {
  for (const { asyncCausality, what } of hooksOff) {
    it(`run in turns of their own, under the awaiting call's time limit, and the engine answers after (${what})`, async () => {
      const { engine } = await startEngine(SCRIPT, { host, asyncCausality });
      await engine.addNamedItem('spinning', new Int32Array(new SharedArrayBuffer(4)));
      expect(await engine.invoke('sum'), 'a script awaiting host promises resumes').to.equal(40);
      const err = await engine.invokeWithin(300, 'afterHost').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(CallTimeoutError);
      expect((err as Error).message).to.match(/^\[script-timeout\] code the script queued to run after an await/);
      expect(await engine.invoke('ok')).to.equal('usable');
      expect(await engine.invoke('sum')).to.equal(40);
    });

    it(`can be interrupted when the call has no time limit (${what})`, async () => {
      const { engine, user } = await startEngineWithUser(SCRIPT, { host, asyncCausality });
      const spinning = new Int32Array(new SharedArrayBuffer(4));
      await engine.addNamedItem('spinning', spinning);
      const pending = engine.invoke('afterHost').catch((e: unknown) => e);
      // Interrupted once the code after the await spins: an interrupt before would settle the call
      // as abandoned in its await instead.
      while (Atomics.load(spinning, 0) === 0) await new Promise((r) => setTimeout(r, 5));
      let stopped = false;
      for (let i = 0; i < 500 && !stopped; i++) {
        stopped = await user.interrupt(engine);
        if (!stopped) await new Promise((r) => setTimeout(r, 10));
      }
      expect(stopped).to.equal(true);
      const err = await pending;
      expect(err).to.be.instanceOf(ScriptError);
      expect((err as Error).message).to.contain('[interrupted]');
      expect(await engine.invoke('ok')).to.equal('usable');
    });
  }
});

describe('lib/script-engine microtasks: promise hooks turned on after the engine started', () => {
  it('end the apartment\'s thread with [script-async-stack] when a time limit stops a promise job, instead of Node aborting the process', async () => {
    const { rt, engine, home } = await startEngineWithUser(SCRIPT, { host, asyncCausality: false });
    const neighbour = await home.createObject<EngineUser>('EngineUser');
    expect(await neighbour.enableAsyncHooks()).to.equal(true);
    const err = await engine.invokeWithin(300, 'afterAwait').catch((e: unknown) => e);
    expect(err, String(err)).to.be.instanceOf(ApartmentFaultedError);
    expect(String((err as Error).message)).to.contain('[script-async-stack]');
    // The host process goes on: another apartment answers.
    const other = await rt.createApartment({ name: 'other' });
    const fresh = await startEngineIn(other);
    expect(fresh).to.equal('usable');
  });
});

/** A script engine started in `apt`, answering `ok`. */
async function startEngineIn(apt: import('../../../lib/index.js').Apartment): Promise<unknown> {
  const { byRef } = await import('../../../lib/index.js');
  const engine = await apt.createObject<import('../../../lib/index.js').ScriptEngine>('ScriptEngine');
  await engine.setSite(byRef({}));
  await engine.parseScriptText(SCRIPT);
  await engine.setState('started');
  return engine.invoke('ok');
}
