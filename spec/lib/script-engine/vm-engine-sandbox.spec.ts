// Scripts are untrusted input: no way to the host's process or require, syntax and runtime errors
// as ScriptError with line and column, and a per-call time limit. The engine runs on this thread.
import { expect } from 'chai';
import { CallTimeoutError, ScriptError } from '../../../lib/errors.js';
import { VmScriptEngine } from '../../../lib/script-engine/vm-script-engine.js';

async function startedEngine(code: string, item: object = {}): Promise<VmScriptEngine> {
  const engine = new VmScriptEngine();
  engine.addNamedItem('host', item);
  engine.setSite({});
  await engine.parseScriptText(code);
  await engine.setState('started');
  return engine;
}

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('lib/script-engine VmScriptEngine: no way out to the host', () => {
  let engine: VmScriptEngine;
  afterEach(() => engine.close());

  it('gives scripts no process, require or module loader', async () => {
    engine = await startedEngine('function probe() { return [typeof process, typeof require, typeof module, typeof globalThis.process]; }');
    expect(await engine.invoke('probe')).to.deep.equal(['undefined', 'undefined', 'undefined', 'undefined']);
  });

  it('keeps this.constructor.constructor inside the script realm', async () => {
    engine = await startedEngine('function escape() { return this.constructor.constructor("return process")(); }');
    const error = await failureOf(engine.invoke('escape'));
    expect(error).to.be.instanceOf(ScriptError);
    expect(error.message).to.contain('process is not defined');
  });

  it('hides the host realm behind named items, their methods, results and errors', async () => {
    const item = { method: () => ({ nested: true }), fail: () => { throw new Error('host says no'); } };
    engine = await startedEngine(`
      function reach() {
        let caught;
        try { host.fail(); } catch (e) { caught = e; }
        return [host.constructor, host.__proto__, Object.getPrototypeOf(host), host.method.constructor, host.method().constructor, caught.constructor, caught.message];
      }`, item);
    expect(await engine.invoke('reach')).to.deep.equal([undefined, undefined, null, undefined, undefined, undefined, 'host says no']);
  });

  it('refuses dynamic import', async () => {
    engine = await startedEngine('async function load() { return (await import("node:fs")).readFileSync; }');
    expect(await failureOf(engine.invoke('load'))).to.be.instanceOf(ScriptError);
  });

  it('lets scripts await host promises and hands host objects back unwrapped', async () => {
    const item = { later: (v: number) => new Promise((resolve) => setTimeout(() => resolve(v * 2), 1)) };
    engine = await startedEngine('async function twice(v) { return await host.later(v); } function same() { return host; }', item);
    expect(await engine.invoke('twice', 21)).to.equal(42);
    expect(await engine.invoke('same')).to.equal(item);
  });
});

describe('lib/script-engine VmScriptEngine: script errors', () => {
  let engine: VmScriptEngine | undefined;
  afterEach(() => engine?.close());

  it('reports a syntax error with its 1-based line and column', async () => {
    engine = new VmScriptEngine();
    engine.setSite({});
    const error = await failureOf(engine.parseScriptText('var a = 1;\nvar b = (;\n', { name: 'plugin.js' }));
    expect(error).to.be.instanceOf(ScriptError);
    expect(error).to.include({ code: 'SCRIPT_E_RECORDED', line: 2, column: 10 });
  });

  it('reports where a called function threw', async () => {
    engine = await startedEngine('function ok() {}\nfunction bad() {\n  return null.x;\n}');
    const error = await failureOf(engine.invoke('bad'));
    expect(error).to.be.instanceOf(ScriptError);
    expect(error).to.include({ line: 3, column: 15 });
  });
});

describe('lib/script-engine VmScriptEngine: per-call time limit', () => {
  let engine: VmScriptEngine;
  beforeEach(async () => {
    engine = await startedEngine(`
      var calls = 0;
      function busy() { calls++; while (true) {} }
      async function busyAfterAwait() { await host.later(); calls++; while (true) {} }
      function never() { return host.never(); }
      function count() { return calls; }`,
    { later: () => Promise.resolve(), never: () => new Promise(() => undefined) });
  });
  afterEach(() => engine.close());

  it('stops synchronous code at the limit and stays usable with its state', async () => {
    expect(await failureOf(engine.invokeWithOptions('busy', [], { timeoutMs: 30 }))).to.be.instanceOf(CallTimeoutError);
    expect(await engine.invoke('count')).to.equal(1);
  });

  it('stops code that loops after an await', async () => {
    expect(await failureOf(engine.invokeWithOptions('busyAfterAwait', [], { timeoutMs: 30 }))).to.be.instanceOf(CallTimeoutError);
    expect(await engine.invoke('count')).to.equal(1);
  });

  it('ends a call that awaits something that never settles', async () => {
    expect(await failureOf(engine.invokeWithOptions('never', [], { timeoutMs: 20 }))).to.be.instanceOf(CallTimeoutError);
  });

  it('limits global code too', async () => {
    expect(await failureOf(engine.parseScriptText('while (true) {}', { timeoutMs: 20 }))).to.be.instanceOf(CallTimeoutError);
    expect(await engine.invoke('count')).to.equal(0);
  });
});
