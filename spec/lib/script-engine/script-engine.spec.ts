import { expect } from 'chai';
import {
  ApartmentError, CallTimeoutError, InvalidArgumentError, ScriptError, WrongThreadError, byRef, release, type Remote, type Runtime, type ScriptEngine,
} from '../../../lib/index.js';
import type { EngineUser } from '../../fixtures/engine-user.js';
import type { Holder } from '../../fixtures/holder.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';
import { expectUnknownOption, refusal } from '../../fixtures/option-refusals.js';

let rt: Runtime | undefined;

type Engine = Remote<ScriptEngine>;

async function setup(): Promise<{ engine: Engine; users: Remote<EngineUser>[]; engineApt: number }> {
  ({ rt } = await startRuntime());
  rt.registerClass('EngineUser', { module: fixture('engine-user.js'), export: 'EngineUser' });
  const home = await rt.createApartment({ name: 'engine-home' });
  const engine = await home.createObject<ScriptEngine>('ScriptEngine');
  const users = [
    await (await rt.createApartment({ name: 'user-a' })).createObject<EngineUser>('EngineUser'),
    await (await rt.createApartment({ name: 'user-b' })).createObject<EngineUser>('EngineUser'),
  ];
  return { engine, users, engineApt: home.id };
}

const code = async (p: Promise<unknown>): Promise<string | undefined> => ((await p.catch((e: unknown) => e)) as ApartmentError | undefined)?.code;

describe('lib/script-engine: states', () => {
  it('walks uninitialized → initialized → started → connected → disconnected → closed, refusing out-of-order steps', async () => {
    const { engine } = await setup();
    expect(await engine.getState()).to.equal('uninitialized');
    expect(await code(engine.parseScriptText('1'))).to.equal('E_UNEXPECTED');
    await engine.setSite(byRef({}));
    expect(await engine.getState()).to.equal('initialized');
    await engine.setState('initialized');
    expect(await code(engine.setSite(byRef({})))).to.equal('E_UNEXPECTED');
    expect(await code(engine.setState('disconnected'))).to.equal('E_UNEXPECTED');
    await engine.parseScriptText('var ran = (globalThis.ran ?? 0) + 1; function get() { return ran; }');
    await engine.setState('started');
    await engine.setState('started');
    expect(await engine.invoke('get')).to.equal(1);
    expect(await code(engine.setState('initialized'))).to.equal('E_UNEXPECTED');
    await engine.setState('connected');
    await engine.setState('disconnected');
    expect(await code(engine.setState('started'))).to.equal('E_UNEXPECTED');
    await engine.setState('closed');
    expect(await engine.getState()).to.equal('closed');
    expect(await code(engine.setState('started'))).to.equal('E_UNEXPECTED');
    expect(await code(engine.parseScriptText('1'))).to.equal('E_UNEXPECTED');
    expect(await code(engine.addNamedItem('x', 1))).to.equal('E_UNEXPECTED');
    await engine.setState('closed');
  });
});

describe('lib/script-engine: free-threaded until initialized, bound after', () => {
  it('lets any apartment use it before the site is set, then refuses every other apartment but state queries and clone', async () => {
    const { engine, users } = await setup();
    const [a, b] = users as [Remote<EngineUser>, Remote<EngineUser>];
    expect(await b.attempt(engine, 'addNamedItem', 'early', 1)).to.equal('ok');
    expect(await a.attempt(engine, 'getState')).to.equal('ok');
    await a.bind(engine);
    for (const [op, ...args] of [['addNamedItem', 'x', 1], ['parseScriptText', '1'], ['setState', 'started'], ['setState', 'initialized'], ['invoke', 'f'], ['getSite'], ['close']] as [string, ...unknown[]][]) {
      expect(await b.attempt(engine, op, ...args), `${op} from another worker`).to.equal('WrongThreadError:E_UNEXPECTED');
      const fromMain = await (engine as unknown as Record<string, (...x: unknown[]) => Promise<unknown>>)[op]!(...args).catch((e: unknown) => e);
      expect(fromMain, `${op} from the main apartment`).to.be.instanceOf(WrongThreadError);
    }
    for (const internal of ['reset', 'start', 'run', 'guard', 'payload', 'interrupted']) {
      expect(await b.attempt(engine, internal), `internal '${internal}' from another worker`).to.equal('NoInterfaceError:E_NOINTERFACE');
    }
    expect(await engine.getState(), 'nothing reached the engine').to.equal('initialized');
    expect(await b.attempt(engine, 'getState')).to.equal('ok');
    expect(await b.attempt(engine, 'clone')).to.equal('ok');
    expect(await a.attempt(engine, 'parseScriptText', 'var y = 1')).to.equal('ok');
  });

  it('resets to uninitialized: drops the site, non-persistent items and text, keeps persistent code, unbinds', async () => {
    const { engine, users } = await setup();
    const [, b] = users as [Remote<EngineUser>, Remote<EngineUser>];
    await engine.setSite(byRef({}));
    await engine.addNamedItem('kept', 40, { persistent: true });
    await engine.addNamedItem('dropped', 1);
    await engine.parseScriptText('function keep() { return kept + 2; } function items() { return [typeof kept, typeof dropped]; }', { persistent: true });
    await engine.parseScriptText('function gone() { return dropped; }');
    await engine.setState('uninitialized');
    expect(await engine.getSite(), 'the site is dropped').to.equal(undefined);
    expect(await b.attempt(engine, 'setSite', byRef({}))).to.equal('ok');
    expect(await b.attempt(engine, 'setState', 'started')).to.equal('ok');
    await b.attempt(engine, 'setState', 'uninitialized');
    await engine.setSite(byRef({}));
    await engine.setState('started');
    expect(await engine.invoke('keep')).to.equal(42);
    expect(await engine.invoke('items'), 'persistent item kept, the other dropped').to.deep.equal(['number', 'undefined']);
    expect(await engine.invoke('gone').catch((e: unknown) => e)).to.be.instanceOf(ScriptError);
  });
});

describe('lib/script-engine: an uninitialized engine may move', () => {
  it('moves into the apartment that asks, with its code and items; the old reference is refused', async () => {
    const { engine, users, engineApt } = await setup();
    await engine.setSite(byRef({}));
    await engine.addNamedItem('kept', 40, { persistent: true });
    await engine.parseScriptText('function answer() { return kept + extra; }', { persistent: true });
    await engine.setState('uninitialized');
    await engine.addNamedItem('extra', 2);
    const there = await users[1]!.moveHere(engine, 'answer');
    expect(there.local, 'the mover holds the engine itself, not a proxy').to.equal(true);
    expect(there.apartment).to.not.equal(engineApt);
    expect(there.answer).to.equal(42);
    expect(await engine.getState()).to.equal('closed');
    const err = (await engine.parseScriptText('1').catch((e: unknown) => e)) as ApartmentError;
    expect(err.code).to.equal('E_UNEXPECTED');
    expect(err.message).to.contain('[moved]');
    for (const op of ['setState', 'close'] as const) {
      const refused = (await (op === 'close' ? engine.close() : engine.setState('closed')).catch((e: unknown) => e)) as ApartmentError;
      expect(refused?.message, op).to.contain('[moved]');
    }
  });

  it('refuses to move once a site binds it', async () => {
    const { engine, users } = await setup();
    const [a, b] = users as [Remote<EngineUser>, Remote<EngineUser>];
    await a.bind(engine);
    expect(await b.attempt(engine, 'move')).to.equal('WrongThreadError:E_UNEXPECTED');
    expect(await a.attempt(engine, 'move')).to.equal('ApartmentError:E_UNEXPECTED');
    expect(await engine.getState()).to.equal('initialized');
  });
});

describe('lib/script-engine: closing or resetting an engine whose script awaits', () => {
  it('settles the awaiting call at once with E_UNEXPECTED, instead of waiting behind it, and one still waiting for its turn too', async () => {
    for (const [how, state] of [['closed', 'closed'], ['reset', 'uninitialized']] as const) {
      for (const when of ['awaiting', 'queued'] as const) {
        const { engine } = await setup();
        let entered = false;
        await engine.setSite(byRef({}));
        await engine.addNamedItem('host', byRef({ never: () => ((entered = true), new Promise(() => {})) }));
        await engine.parseScriptText('async function wait() { return await host.never(); }');
        await engine.setState('started');
        const pending = engine.invoke('wait').catch((e: unknown) => e);
        if (when === 'awaiting') while (!entered) await new Promise((r) => setTimeout(r, 5));
        await engine.setState(state);
        const err = (await pending) as ApartmentError;
        expect(err.code, `${how}, ${when}`).to.equal('E_UNEXPECTED');
        const message = how === 'closed' ? /^\[closed\] the engine was closed (while a script was running|before the script ran)/ : /^\[reset\] the engine was reset (while a script was running|before the script ran)/;
        expect(err.message, `${how}, ${when}`).to.match(message);
        if (when === 'awaiting') expect(err.message).to.contain('while a script was running');
        expect(await engine.getState(), how).to.equal(state);
        await rt!.close();
      }
    }
  });
});

describe('lib/script-engine: scripts and the host', () => {
  it('exposes host objects as named items; scripts await their methods across apartments', async () => {
    const { engine } = await setup();
    await engine.setSite(byRef({}));
    await engine.addNamedItem('host', byRef({ add: async (x: number, y: number) => x + y }));
    await engine.parseScriptText('async function sum() { return await host.add(2, 3); }');
    await engine.setState('started');
    expect(await engine.invoke('sum')).to.equal(5);
  });

  it('adds a named item over a global the script made an accessor without running the script\'s setter, and refuses one it made unchangeable', async () => {
    const { engine } = await setup();
    await engine.setSite(byRef({}));
    await engine.parseScriptText(`
      Object.defineProperty(globalThis, 'item', { get() { return 'getter'; }, set(v) { while (true) {} }, configurable: true });
      Object.defineProperty(globalThis, 'fixed', { value: 'fixed', writable: false, configurable: false });
      function read(name) { return globalThis[name]; }`);
    await engine.setState('started');
    expect(await engine.invoke('read', 'item')).to.equal('getter');
    // Assigned, the item would have run the setter's busy loop outside any run, for good.
    await engine.addNamedItem('item', 42);
    expect(await engine.invoke('read', 'item')).to.equal(42);
    const err = (await engine.addNamedItem('fixed', 1).catch((e: unknown) => e)) as ApartmentError;
    expect(err.code).to.equal('E_UNEXPECTED');
    expect(err.message).to.match(/^\[named-item\] the script made its global 'fixed' unchangeable/);
    expect(await engine.invoke('read', 'fixed')).to.equal('fixed');
  });

  it('reports syntax errors with line and column', async () => {
    const { engine } = await setup();
    await engine.setSite(byRef({}));
    const err = (await engine.parseScriptText('var ok = 1;\n\n  let x = ;').catch((e: unknown) => e)) as ScriptError;
    expect(err).to.be.instanceOf(ScriptError);
    expect(err.code).to.equal('SCRIPT_E_RECORDED');
    expect([err.line, err.column]).to.deep.equal([3, 11]);
  });

  it('gives scripts no process or require, even through the constructor chain', async () => {
    const { engine } = await setup();
    await engine.setSite(byRef({}));
    await engine.parseScriptText("function probe() { return [typeof process, typeof require, this.constructor.constructor('return typeof process')()]; }");
    await engine.setState('started');
    expect(await engine.invoke('probe')).to.deep.equal(['undefined', 'undefined', 'undefined']);
  });

  it('keeps the time limit of script text added before start, and applies it when the engine starts', async () => {
    const { engine } = await setup();
    await engine.setSite(byRef({}));
    await engine.parseScriptText('var started = 0; function count() { return started; }');
    await engine.parseScriptText('started++; while (true) {}', { timeoutMs: 50 });
    expect(await engine.setState('started').catch((e: unknown) => e)).to.be.instanceOf(CallTimeoutError);
    expect(await engine.invoke('count'), 'the engine runs on with the code before it').to.equal(1);
  });

  it('stops a call that passes its time limit; the engine stays usable', async () => {
    const { engine } = await setup();
    await engine.setSite(byRef({}));
    await engine.parseScriptText('var n = 0; function spin() { n++; while (true) {} } function count() { return n; }');
    await engine.setState('started');
    expect(await engine.invokeWithin(50, 'spin').catch((e: unknown) => e)).to.be.instanceOf(CallTimeoutError);
    expect(await engine.invoke('count')).to.equal(1);
  });
});

describe('lib/script-engine: interrupt and clone', () => {
  it('interrupts a synchronous busy loop from another apartment; the engine keeps its state and stays usable', async () => {
    const { engine, users } = await setup();
    await engine.setSite(byRef({}));
    await engine.parseScriptText('var entered = 0; function spin() { entered++; while (true) {} } function count() { return entered; }');
    await engine.setState('started');
    const pending = engine.invoke('spin').catch((e: unknown) => e);
    let stopped = false;
    for (let i = 0; i < 100 && !stopped; i++) {
      stopped = await users[0]!.interrupt(engine);
      if (!stopped) await new Promise((r) => setTimeout(r, 10));
    }
    expect(stopped).to.equal(true);
    const err = await pending;
    expect(err).to.be.instanceOf(ScriptError);
    expect((err as Error).message).to.contain('[interrupted]');
    expect(await engine.invoke('count')).to.equal(1);
    expect(await users[0]!.interrupt(engine)).to.equal(false);
  });

  it('clones into another apartment, where the copy runs in parallel with the original', async () => {
    const { engine, users, engineApt } = await setup();
    const cells = new Int32Array(new SharedArrayBuffer(4));
    await engine.setSite(byRef({}));
    await engine.addNamedItem('cells', cells, { persistent: true });
    await engine.parseScriptText('function transient() { return 1; }');
    await engine.parseScriptText('function busy(ms) { Atomics.add(cells, 0, 1); const end = Date.now() + ms; while (Atomics.load(cells, 0) < 2 && Date.now() < end) {} return Atomics.load(cells, 0); }', { persistent: true });
    await engine.setState('started');
    // Another apartment's clone carries the items' names, not the binding host's values: it adds its own.
    const where = await users[1]!.cloneHere(engine, { cells });
    expect(where.state, 'the copy is a local engine there').to.equal('started');
    expect(where.apartment).to.not.equal(engineApt);
    const [mine, theirs] = await Promise.all([engine.invoke('busy', 5_000), users[1]!.runCopy('busy', 5_000)]);
    expect([mine, theirs], 'both saw the other enter: they ran at the same time').to.deep.equal([2, 2]);
    expect(await users[1]!.runCopy('transient').catch((e: unknown) => e), 'non-persistent code stays behind').to.be.instanceOf(ScriptError);
  });

  it('hands an apartment that clones a bound engine the persistent items\' names only, and the binding apartment their values too', async () => {
    const { engine, users } = await setup();
    const secret = byRef({ reveal: () => 'the host\'s secret' });
    await engine.setSite(byRef({}));
    await engine.addNamedItem('secret', secret, { persistent: true });
    await engine.parseScriptText('function peek() { return typeof secret === "undefined" ? "no secret" : secret.reveal(); }', { persistent: true });
    await engine.setState('started');
    expect(await engine.invoke('peek')).to.equal('the host\'s secret');
    // users[1] holds the engine but may not invoke it (it is bound here): a clone gives it no more.
    expect(await users[1]!.attempt(engine, 'invoke', 'peek')).to.equal('WrongThreadError:E_UNEXPECTED');
    await users[1]!.cloneHere(engine);
    expect(await users[1]!.runCopy('peek')).to.equal('no secret');
    // The apartment the engine is bound to clones it with the items' values.
    const mine = (await engine.clone()) as unknown as ScriptEngine;
    mine.setSite(byRef({}));
    await mine.setState('started');
    expect(await mine.invoke('peek')).to.equal('the host\'s secret');
    mine.close();
    release(secret);
  });
});

describe('lib/script-engine: a time limit V8 cannot apply', () => {
  it('is refused with InvalidArgumentError [timeout] when given, before it is stored or anything runs', async () => {
    const { engine } = await setup();
    await engine.setSite(byRef({}));
    // Given before the engine starts, it used to be stored and to fail the start half way.
    const early = await engine.parseScriptText('var early = 1;', { timeoutMs: 0 }).catch((e: unknown) => e);
    expect(early).to.be.instanceOf(InvalidArgumentError);
    expect((early as Error).message).to.match(/^\[timeout\] /);
    await engine.parseScriptText('function f() { return 1; }');
    await engine.setState('started');
    for (const ms of [0, -5, 1.5, Number.NaN, 2 ** 40]) {
      const err = await engine.invokeWithin(ms, 'f').catch((e: unknown) => e);
      expect(err, String(ms)).to.be.instanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).parameter).to.equal('timeoutMs');
    }
    expect(await engine.invokeWithin(1_000, 'f')).to.equal(1);
  });
});

describe('lib/script-engine: option keys nobody reads', () => {
  it('refuses a misspelt key of parseScriptText() and addNamedItem() options in the engine\'s apartment, before anything is stored', async () => {
    const { engine } = await setup();
    await engine.setSite(byRef({}));
    // Before: ignored, and the code or item was dropped at the next reset().
    const text = await refusal(() => engine.parseScriptText('var kept = 1;', { persistant: true } as never));
    expectUnknownOption(text, 'persistant', 'parseScriptText()', 'persistent', true);
    const item = await refusal(() => engine.addNamedItem('kept', 1, { persistant: true } as never));
    expectUnknownOption(item, 'persistant', 'addNamedItem()', 'persistent', true);
    await engine.parseScriptText('function probe() { return typeof kept; }');
    await engine.setState('started');
    expect(await engine.invoke('probe'), 'neither the refused code nor the refused item is there').to.equal('undefined');
  });
});

describe('lib/script-engine: the longest time limit V8 takes', () => {
  it('lets a script\'s promise settle within it, where a Node timer of 2^32 - 1 ms abandoned it after 1 ms', async () => {
    const { engine } = await setup();
    await engine.setSite(byRef({}));
    // The host answers after 30 ms: longer than a timer Node cut to 1 ms.
    await engine.addNamedItem('host', byRef({ later: () => new Promise((r) => setTimeout(() => r(7), 30)) }));
    await engine.parseScriptText('async function slow() { return await host.later(); }');
    await engine.setState('started');
    expect(await engine.invokeWithin(2 ** 32 - 1, 'slow')).to.equal(7);
  });
});

describe('lib/script-engine: bound to the apartment whose code sets its site', () => {
  it('even when that code sets it, or uses it, while serving a call from another apartment', async () => {
    const { engine, users } = await setup();
    await engine.setSite(byRef({}));
    await engine.parseScriptText('function answer() { return 42; }', { persistent: true });
    // user-a clones the engine into its own apartment and sets the copy's site there, serving the main apartment's call.
    expect((await users[0]!.cloneHere(engine)).state).to.equal('started');
    // A third apartment asks user-a to run the copy: user-a's own code calls its own local engine.
    const third = await (await rt!.createApartment({ name: 'third' })).createObject<Holder>('Holder');
    await third.keep(users[0]);
    expect(await third.callKept(0, 'runCopy', 'answer')).to.equal(42);
  });
});
