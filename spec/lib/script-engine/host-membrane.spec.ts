import { expect } from 'chai';
import { CallTimeoutError, InvalidArgumentError, ScriptError, interruptScript, type Remote, type ScriptEngine } from '../../../lib/index.js';
import type { Holder } from '../../fixtures/holder.js';
import { startEngine } from '../../fixtures/started-engine.js';

const host = {
  add: async (x: number, y: number) => x + y,
  fail: async () => {
    throw new InvalidArgumentError('[host] refused on purpose');
  },
  data: async () => ({ a: 1 }),
};

// Each probe tries to climb from a host value to the host's Function and run `return process`.
const probes = `
  const climb = (get) => { try { return typeof get().constructor.constructor('return process')(); } catch { return 'refused'; } };
  async function probe() {
    const out = {};
    out.item = climb(() => host);
    out.method = climb(() => host.add);
    out.proto = Object.getPrototypeOf(host);
    const pending = host.add(1, 2);
    out.promiseIsScripts = pending instanceof Promise;
    out.sum = await pending;
    try { await host.fail(); } catch (e) { out.errorMessage = e.message; out.error = climb(() => e); }
    const data = await host.data();
    out.result = climb(() => data);
    out.resultField = data.a;
    return out;
  }
  function probeArg(arg) { return [climb(() => arg), arg.n]; }
  function me() { return host; }
  function letThrough() { return host.fail(); }
`;

describe('lib/script-engine: the membrane around host values', () => {
  it('hides the host realm behind named items, their methods, results and errors', async () => {
    const { engine } = await startEngine(probes, { host });
    const out = (await engine.invoke('probe')) as Record<string, unknown>;
    expect(out).to.deep.include({ item: 'refused', method: 'refused', proto: null, promiseIsScripts: true, sum: 3, error: 'refused', result: 'refused', resultField: 1 });
    expect(out.errorMessage).to.contain('refused on purpose');
  });

  it('wraps invoke arguments too', async () => {
    const { engine } = await startEngine(probes, { host });
    expect(await engine.invoke('probeArg', { n: 7 })).to.deep.equal(['refused', 7]);
  });

  it('hands a host object back unwrapped, so it comes home as itself', async () => {
    const { engine } = await startEngine(probes, { host });
    expect(await engine.invoke('me')).to.equal(host);
  });

  it('lets a host error the script does not catch reach the caller as itself', async () => {
    const { engine } = await startEngine(probes, { host });
    const err = await engine.invoke('letThrough').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(InvalidArgumentError);
    expect((err as Error).message).to.contain('refused on purpose');
  });
});

// The ways a script once reached the host's process: host code calling a script function with host
// values (a method the script planted on a host object, a getter it defined there, a host forEach, a
// callback called back from another apartment). Each hostile script reports what its climb found.
const holes = `
  const climb = (get) => { try { return typeof get().constructor.constructor('return process')(); } catch { return 'refused'; } };
  function plantedToString() {
    let found = 'not called';
    item.toString = function () { found = climb(() => this); return 'planted'; };
    item.toLocaleString();
    return found;
  }
  function definedGetter() {
    let found = 'not called';
    Object.defineProperty(item, 'sneaky', { configurable: true, get() { found = climb(() => this); return 1; } });
    item.sneaky;
    return found;
  }
  function forEachArguments() {
    const found = {};
    item.list.forEach((element, index, array) => { found.element = climb(() => element); found.array = climb(() => array); });
    return found;
  }
  async function callbackArguments() {
    return host.callBack((arg) => climb(() => arg));
  }
`;
const callingBack = { callBack: async (fn: (arg: object) => Promise<unknown>) => fn({ from: 'host' }) };

describe('lib/script-engine: host code calling script functions hands them host values through the membrane', () => {
  async function holeEngine(): Promise<Remote<ScriptEngine>> {
    const { engine } = await startEngine(holes, { host: callingBack });
    await engine.addNamedItem('item', { list: [{ k: 1 }] });
    return engine;
  }

  it('a toString the script assigns to a host object, called by the host toLocaleString, gets a wrapped `this`', async () => {
    expect(await (await holeEngine()).invoke('plantedToString')).to.equal('refused');
  });

  it('a getter the script defines on a host object, read by the host, gets a wrapped `this`', async () => {
    expect(await (await holeEngine()).invoke('definedGetter')).to.equal('refused');
  });

  it("a host forEach's callback gets the element and the array wrapped", async () => {
    expect(await (await holeEngine()).invoke('forEachArguments')).to.deep.equal({ element: 'refused', array: 'refused' });
  });

  it('a callback passed to an object of another apartment gets its arguments wrapped', async () => {
    expect(await (await holeEngine()).invoke('callbackArguments')).to.equal('refused');
  });
});

// A script's own values that host code holds (set on a host object, copied into a host array by a
// host builtin) used to come back wrapped as if they were host values, and the wrapper's traps then
// handed them host values unwrapped: a write, a call, or a function in a script array reached the
// host's process. Each hostile script reports what its climb found.
const ownValues = `
  const climb = (get) => { try { return typeof get().constructor.constructor('return process')(); } catch { return 'refused'; } };
  function writtenBack() { const o = {}; item.o = o; item.o.x = item.list; return climb(() => o.x); }
  function functionWrittenBack() { const o = {}; item.o = o; item.o.f = () => 1; return climb(() => o.f); }
  function calledBack() { item.f = { g(x) { return climb(() => x); } }; return item.f.g(item.list); }
  function noPrototypeCalledBack() { const f = (x) => climb(() => x); Object.setPrototypeOf(f, null); return item.list.concat([f])[1](item.list); }
  function sameObject() { const o = {}; item.o = o; return item.o === o; }
`;

describe("lib/script-engine: a script's own values that host code holds come back as themselves", () => {
  it('so writing to them, or calling them, through a host object hands them no host value unwrapped', async () => {
    const { engine } = await startEngine(ownValues);
    await engine.addNamedItem('item', { list: [{ k: 1 }] });
    for (const fn of ['writtenBack', 'functionWrittenBack', 'calledBack', 'noPrototypeCalledBack']) expect(await engine.invoke(fn), fn).to.equal('refused');
    expect(await engine.invoke('sameObject')).to.equal(true);
  });
});

// Function.prototype.apply (any host function's `.apply`) called the host function with the
// elements of the script's array as they were: a script function among them reached host code
// unwrapped, and host code (a host forEach, another apartment calling back) handed it host values.
const spreads = `
  const climb = (get) => { try { return typeof get().constructor.constructor('return process')(); } catch { return 'refused'; } };
  function forEachApplied() { let found = 'not called'; item.list.forEach.apply(item.list, [(el) => { found = climb(() => el); }]); return found; }
  function applyCalled() { let found = 'not called'; const each = item.list.forEach; each.call.call(each.apply, each, item.list, [(el) => { found = climb(() => el); }]); return found; }
  async function callBackApplied() { return host.callBack.apply(host, [(arg) => climb(() => arg)]); }
  function tooMany() { try { item.list.push.apply(item.list, { length: 1e9 }); return 'pushed'; } catch (e) { return e.message; } }
`;

describe("lib/script-engine: a host function's apply hands the script's array elements on through the membrane", () => {
  it('so a script function among them gets host values wrapped, and an endless array-like is refused', async () => {
    const { engine } = await startEngine(spreads, { host: callingBack });
    await engine.addNamedItem('item', { list: [{ k: 1 }] });
    for (const fn of ['forEachApplied', 'applyCalled', 'callBackApplied']) expect(await engine.invoke(fn), fn).to.equal('refused');
    expect(await engine.invoke('tooMany')).to.contain('[membrane] too many arguments');
  });
});

// An array crosses apartments element by element: a script function in an array the script passed
// to another apartment's object was exported as it was, and called back with raw host values.
const inArrays = `
  const climb = (get) => { try { return typeof get().constructor.constructor('return process')(); } catch { return 'refused'; } };
  async function inArray() { return host.callFirst([(arg) => climb(() => arg)]); }
  async function nestedArray() { return host.callNested([[(arg) => climb(() => arg)]]); }
  function endless() { const a = []; a.length = 2 ** 31; try { host.callFirst(a); return 'passed'; } catch (e) { return e.message; } }
`;
const callingFirst = {
  callFirst: async (fns: ((arg: object) => unknown)[]) => fns[0]!({ from: 'host' }),
  callNested: async (fns: ((arg: object) => unknown)[][]) => fns[0]![0]!({ from: 'host' }),
};

describe("lib/script-engine: a script function in an array the script passes to host code", () => {
  it('is handed over wrapped, so another apartment calling it back hands it host values through the membrane', async () => {
    const { engine } = await startEngine(inArrays, { host: callingFirst });
    expect(await engine.invoke('inArray')).to.equal('refused');
    expect(await engine.invoke('nestedArray')).to.equal('refused');
    expect(await engine.invoke('endless')).to.contain('[membrane] an array of 2147483648 elements');
  });
});

// Script code the runtime runs when it reads what a script returned or threw. Each spins.
const lateSpins = `
  function getter() { return { plain: 1, get late() { Atomics.store(spinning, 0, 1); while (true) {} } }; }
  function thenable() { return { then() { Atomics.store(spinning, 0, 1); while (true) {} } }; }
  function stackFormat() { Error.prepareStackTrace = () => { Atomics.store(spinning, 0, 1); while (true) {} }; throw new Error('formatted late'); }
  function thrownProxy() { throw new Proxy({}, { get() { Atomics.store(spinning, 0, 1); while (true) {} }, getOwnPropertyDescriptor() { Atomics.store(spinning, 0, 1); while (true) {} }, getPrototypeOf() { Atomics.store(spinning, 0, 1); while (true) {} } }); }
  function resolvesSpinning() { return Promise.resolve({ get late() { Atomics.store(spinning, 0, 1); while (true) {} } }); }
  function spinningObject(o) { Object.defineProperty(o, 'late', { enumerable: true, get() { Atomics.store(spinning, 0, 1); while (true) {} } }); return o; }
  function nullPrototypeGetter() { return { inner: spinningObject(Object.create(null)) }; }
  function classGetter() { class Point {} return [spinningObject(new Point())]; }
  function mapGetter() { return new Map([['k', spinningObject({})]]); }
  function reset() { Error.prepareStackTrace = undefined; Atomics.store(spinning, 0, 0); return 'usable'; }
`;
// Before: an object with no prototype, of a class, or in a Map went out as it was, and the copy to
// the caller ran its getter after the run, out of reach of the time limit and interruptScript.
const lateSpinners = ['getter', 'thenable', 'stackFormat', 'thrownProxy', 'resolvesSpinning', 'nullPrototypeGetter', 'classGetter', 'mapGetter'];

describe("lib/script-engine: script code run on the script's behalf is under its time limit and interruptScript", () => {
  async function spinEngine(): Promise<{ engine: Remote<ScriptEngine>; spinning: Int32Array }> {
    const { engine } = await startEngine(lateSpins, { host });
    const spinning = new Int32Array(new SharedArrayBuffer(4));
    await engine.addNamedItem('spinning', spinning);
    return { engine, spinning };
  }

  it('stops a getter on the result, a thenable, a stack formatter and a thrown Proxy at the time limit', async () => {
    const { engine } = await spinEngine();
    for (const name of lateSpinners) {
      const err = await engine.invokeWithin(200, name).catch((e: unknown) => e);
      expect(err, name).to.be.instanceOf(CallTimeoutError);
      expect(await engine.invoke('reset'), `${name}: the engine stays usable`).to.equal('usable');
    }
  });

  it('lets interruptScript stop each of them when there is no time limit', async () => {
    const { engine, spinning } = await spinEngine();
    for (const name of lateSpinners) {
      const pending = engine.invoke(name).catch((e: unknown) => e);
      while (Atomics.load(spinning, 0) === 0) await new Promise((r) => setTimeout(r, 2));
      expect(await interruptScript(engine), name).to.equal(true);
      expect(((await pending) as Error).message, name).to.contain('[interrupted]');
      expect(await engine.invoke('reset'), `${name}: the engine stays usable`).to.equal('usable');
    }
  });

  it("still returns the script's plain data, host objects and errors as before", async () => {
    const { engine } = await startEngine('function data() { const o = { n: 1, list: [1, { deep: true }], get computed() { return 42; } }; o.self = o; return o; }\nfunction back() { return [host]; }', { host });
    const out = (await engine.invoke('data')) as Record<string, unknown>;
    expect(out).to.deep.include({ n: 1, list: [1, { deep: true }], computed: 42 });
    expect(out.self, 'a cycle stays a cycle').to.equal(out);
    expect(((await engine.invoke('back')) as unknown[])[0], 'a host object nested in the result comes home as itself').to.equal(host);
  });
});

describe('lib/script-engine: what a script throws, however large or odd', () => {
  it('repeats at most 4096 characters of its name and message, and keeps a bigint a bigint', async () => {
    const { engine } = await startEngine("function long() { const e = new Error('m'.repeat(5e6)); e.name = 'N'.repeat(5e6); throw e; }\nfunction big() { throw 10n; }", { host });
    const long = (await engine.invoke('long').catch((e: unknown) => e)) as ScriptError;
    expect(long).to.be.instanceOf(ScriptError);
    // Before: a 10 MB message, carried to the caller and into every log line that quotes it.
    expect(long.message.length).to.be.below(10_000);
    expect(long.message).to.contain('more characters)');
    expect(((await engine.invoke('big').catch((e: unknown) => e)) as Error).message).to.contain('threw 10n;');
  });
});

describe('lib/script-engine: how much a script may return', () => {
  it('refuses a result heavier than 64 MiB as a copy carries it, before it leaves the engine', async () => {
    const script = `
      function heavy() { return Array(200).fill('x'.repeat(1024 * 1024)); }
      function heavyMap() { const s = 'y'.repeat(1024 * 1024); return new Map(Array.from({ length: 100 }, (_, i) => [i, [s, s]])); }
      function light() { return Array(20).fill('x'.repeat(1024 * 1024)).length; }
    `;
    const { engine } = await startEngine(script, { host });
    // Before: 200 references to one 1 MiB string became 200 MiB in the caller (a few thousand overran
    // the host's heap and ended the process).
    for (const name of ['heavy', 'heavyMap']) {
      const err = (await engine.invoke(name).catch((e: unknown) => e)) as ScriptError;
      expect(err, name).to.be.instanceOf(ScriptError);
      expect(err.message, name).to.match(/^\[script-result\] the script returned more than 64 MiB/);
    }
    expect(await engine.invoke('light'), 'the engine goes on').to.equal(20);
  });
});

describe('lib/script-engine: what a script throws', () => {
  it('becomes a ScriptError with the line and column of the throw', async () => {
    const { engine } = await startEngine('function f() {\n  const x = 1;\n    throw new TypeError("bad input");\n}\nfunction g() { throw 42; }', { host });
    const err = (await engine.invoke('f').catch((e: unknown) => e)) as ScriptError;
    expect(err).to.be.instanceOf(ScriptError);
    expect(err.code).to.equal('SCRIPT_E_RECORDED');
    expect(err.message).to.contain('TypeError: bad input');
    expect([err.line, err.column]).to.deep.equal([3, 11]);
    const thrown = (await engine.invoke('g').catch((e: unknown) => e)) as ScriptError;
    expect(thrown).to.be.instanceOf(ScriptError);
    expect(thrown.message).to.contain('threw 42');
  });

  it('never reads `stack` through a getter the script defined (it would run script code outside the turn)', async () => {
    const { engine } = await startEngine('async function lie() {\n  await null;\n  const e = new RangeError("sneaky");\n  Object.defineProperty(e, "stack", { get() { return "RangeError\\n    at script-9.js:99:99"; } });\n  throw e;\n}', { host });
    const err = (await engine.invoke('lie').catch((e: unknown) => e)) as ScriptError;
    expect(err).to.be.instanceOf(ScriptError);
    expect(err.message).to.contain('RangeError: sneaky').and.not.contain('99');
    expect([err.line, err.column]).to.deep.equal([undefined, undefined]);
  });

  it('abandons an asynchronous script at its time limit; the engine stays usable', async () => {
    const { engine } = await startEngine('async function hang() { await new Promise(() => {}); }\nfunction ok() { return "still here"; }', { host });
    const err = await engine.invokeWithin(50, 'hang').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CallTimeoutError);
    expect((err as Error).message).to.contain('did not settle within 50 ms');
    expect(await engine.invoke('ok')).to.equal('still here');
  });
});

describe("lib/script-engine: the runtime's own ways into a script hand it nothing of the host", () => {
  const entries = `
    const climb = (get) => { try { return typeof get().constructor.constructor('return process')(); } catch { return 'refused'; } };
    function viaSlot() { return climb(() => __invocation); }
    function viaSettlers() { return { then(ok, fail) { ok([climb(() => ok), climb(() => fail)]); } }; }
    var kept;
    function keep() { kept = __invocation; return typeof kept; }
    function reuse() { return kept(); }
    function readBack() { return { get seen() { return [typeof __exit, climb(() => __exit), __exit()]; } }; }
    function redefine() { try { Object.defineProperty(globalThis, '__invocation', { get() { while (true) {} } }); return 'redefined'; } catch { return 'fixed'; } }
  `;

  it('neither the slot a call enters through, nor the settlers a thenable gets, nor the slot results are read through, reach the host realm', async () => {
    const { engine } = await startEngine(entries, { host });
    expect(await engine.invoke('viaSlot')).to.equal('refused');
    expect(await engine.invoke('viaSettlers')).to.deep.equal(['refused', 'refused']);
    // Reading a result under a time limit goes through the read-back slot, which its getter can see.
    expect(await engine.invokeWithin(60_000, 'readBack')).to.deep.equal({ seen: ['function', 'refused', undefined] });
  });

  it('each slot serves one call: a kept entry answers undefined, and the slots cannot be made accessors', async () => {
    const { engine } = await startEngine(entries, { host });
    expect(await engine.invoke('keep')).to.equal('function');
    expect(await engine.invoke('reuse')).to.equal(undefined);
    expect(await engine.invoke('redefine')).to.equal('fixed');
    expect(await engine.invoke('viaSlot'), 'calls still enter').to.equal('refused');
  });

  it('a global accessor named as the function to invoke is refused without running it', async () => {
    const { engine } = await startEngine(`${entries}\nObject.defineProperty(globalThis, 'sneaky', { get() { while (true) {} } });`, { host });
    const err = await engine.invoke('sneaky').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ScriptError);
    expect((err as Error).message).to.contain('[no-such-function]');
    expect(await engine.invoke('viaSlot'), 'the engine still answers').to.equal('refused');
  });
});

describe('lib/script-engine: a script that runs the stack out on its way into host code', () => {
  // Fill the stack, then at every depth on the way back call into host code, and keep what was
  // thrown there that is not the script's own RangeError: V8 makes the error of a stack that runs
  // out in the realm of the function being entered, which was the host's for the slot and the traps.
  const overflow = `
    const climb = (e) => { try { return typeof e.constructor.constructor('return process')(); } catch { return 'refused'; } };
    function overflowInto(enter) {
      const caught = [];
      (function deeper() {
        try { deeper(); } catch {}
        try { enter(); } catch (e) { if (!(e instanceof RangeError) && caught.length < 8) caught.push(e); }
      })();
      return caught.map(climb);
    }
    function viaSlot() { const slot = __invocation; return overflowInto(() => slot()); }
    function viaGet() { return overflowInto(() => host.add); }
    // Node prints 'Exception in PromiseRejectCallback' for the promises this one makes with no stack left.
    function viaApply() { return overflowInto(() => host.data()); }
    function viaHas() { return overflowInto(() => 'add' in host); }
    function viaSet() { return overflowInto(() => { host.x = 1; }); }
    function viaKeys() { return overflowInto(() => Object.keys(host)); }
  `;

  it('catches only errors of its own realm, through the slot a call enters by and through every trap of a host object', async () => {
    const { engine } = await startEngine(overflow, { host });
    for (const door of ['viaSlot', 'viaGet', 'viaApply', 'viaHas', 'viaSet', 'viaKeys']) {
      const climbs = (await engine.invoke(door)) as string[];
      // Before: the host's RangeError came through, and its constructor's constructor returned `process`.
      expect(climbs.filter((c) => c !== 'refused'), `${door}: ${climbs.join(', ')}`).to.deep.equal([]);
    }
    expect(await engine.invoke('viaSlot'), 'the engine still answers').to.be.an('array');
  });
});

// A plain object of the script's reached host code as it was: host code that called a script
// function it found inside (a field, a getter, deeper in) handed it raw host values.
const inObjects = `
  const climb = (get) => { try { return typeof get().constructor.constructor('return process')(); } catch { return 'refused'; } };
  async function inField() { local.keep({ cb: (arg) => climb(() => arg) }); return local.callKept(0, 'cb', item); }
  async function byGetter() { local.keep({ get cb() { return (arg) => climb(() => arg); } }); return local.callKept(1, 'cb', item); }
  async function deeper() { return host.callInner({ inner: { list: [{ cb: (arg) => climb(() => arg) }] } }); }
  function data() { const o = { n: 1, s: 'x', list: [1, { deep: true }] }; o.self = o; local.keep(o); const back = local.give(2); return [back.n, back.s, back.list[1].deep, back.self === back]; }
`;
const callingInner = { callInner: async (o: { inner: { list: { cb: (arg: object) => unknown }[] } }) => o.inner.list[0]!.cb({ from: 'host' }) };

describe('lib/script-engine: a script function inside a plain object the script passes to host code', () => {
  it('is handed over wrapped, in a field, by a getter or deeper, so host code calling it hands it host values through the membrane', async () => {
    const { engine, home } = await startEngine(inObjects, { host: callingInner });
    const holder = await home.createObject<Holder>('Holder');
    await engine.addNamedItem('local', holder);
    await engine.addNamedItem('item', { k: 1 });
    for (const fn of ['inField', 'byGetter', 'deeper']) expect(await engine.invoke(fn), fn).to.equal('refused');
    expect(await engine.invoke('data'), 'plain data arrives as it was, cycles included').to.deep.equal([1, 'x', true, true]);
  });
});
