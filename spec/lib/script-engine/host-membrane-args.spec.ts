// What a script passes to host code as arguments: arrays and plain objects of its own are handed
// over as copies (see argToHost in lib/script-engine/host-membrane.ts). These specs are about how the
// copy is made.
import { expect } from 'chai';
import { interruptScript } from '../../../lib/index.js';
import type { Holder } from '../../fixtures/holder.js';
import { startEngine } from '../../fixtures/started-engine.js';

const host = { add: async (x: number, y: number) => x + y, count: async (list: unknown[]) => list.length, held: async (list: unknown[]) => [list.length, Object.keys(list)] };

// Each hands host code an argument whose copy runs script code that spins until it is stopped:
// spinning[0] is 1 while it spins, 2 if it gave up. The cap only turns a stop that never lands into a
// failure instead of a hang: on Node 24 a stop can take seconds to land in a loop of Maglev code
// (V8 delivers the inspector's message to that code late), so it is long.
const spins = `
  const spin = () => { Atomics.store(spinning, 0, 1); const end = Date.now() + 60_000; while (Date.now() < end) {} Atomics.store(spinning, 0, 2); };
  function byPrototype() { return host.add(new Proxy({}, { getPrototypeOf() { spin(); return Object.prototype; } }), 1); }
  function byKeys() { return host.add(new Proxy({}, { ownKeys() { spin(); return []; } }), 1); }
  function byIndexGetter() { const a = [0]; Object.defineProperty(a, 0, { get() { spin(); return 1; } }); return host.add(a, 1); }
  function byApply() { return host.add.apply(host, [new Proxy({}, { getPrototypeOf() { spin(); return Object.prototype; } }), 1]); }
  function reset() { Atomics.store(spinning, 0, 0); return 'usable'; }
`;

describe('lib/script-engine: script code that copying what a script passes to host code runs', () => {
  it('is under interruptScript: a Proxy trap or an array getter stops where it spins', async () => {
    const { engine } = await startEngine(spins, { host });
    const spinning = new Int32Array(new SharedArrayBuffer(4));
    await engine.addNamedItem('spinning', spinning);
    for (const name of ['byPrototype', 'byKeys', 'byIndexGetter', 'byApply']) {
      const pending = engine.invoke(name).catch((e: unknown) => e);
      while (Atomics.load(spinning, 0) === 0) await new Promise((r) => setTimeout(r, 2));
      expect(await interruptScript(engine), name).to.equal(true);
      expect(String(await pending), name).to.contain('[interrupted]');
      // Before: the copy ran it off the script gate, where no stop lands; it spun to its end.
      expect(Atomics.load(spinning, 0), `${name}: stopped while it spun`).to.equal(1);
      expect(await engine.invoke('reset'), `${name}: the engine stays usable`).to.equal('usable');
    }
  });
});

describe('lib/script-engine: an object the script passes twice in one call to host code', () => {
  it('reaches host code as one copy', async () => {
    const { engine, home } = await startEngine('function same() { const o = { n: 1 }; const a = [o]; return [local.same(o, o), local.same(a, a), local.same(o, a[0])]; }', { host });
    const holder = await home.createObject<Holder>('Holder');
    await engine.addNamedItem('local', holder);
    // Before: each argument was copied on its own, so host code saw two objects (as it did not before copies).
    expect(await engine.invoke('same')).to.deep.equal([true, true, true]);
  });
});

// A host method the script calls on its own object, `this` handed over as it was: the host's push
// wrote the host value it was given into the script's object, through a setter of the script's.
const asThis = `
  const climb = (get) => { try { return typeof get().constructor.constructor('return process')(); } catch { return 'refused'; } };
  function pushedInto() { let found = 'not called'; Reflect.apply(item.list.push, { set 0(v) { found = climb(() => v); }, length: 0 }, [item]); return found; }
  function asMethod() { let found = 'not called'; const o = { push: item.list.push, set 0(v) { found = climb(() => v); }, length: 0 }; o.push(item); return found; }
  function readsThis() { const o = { length: 2, 0: 'a', 1: 'b' }; return Reflect.apply(item.list.join, o, ['-']); }
`;

describe("lib/script-engine: a plain object of the script's that a host function is called on", () => {
  it('is handed over as a copy, as an argument is, so host code writing into it hands the script nothing', async () => {
    const { engine } = await startEngine(asThis, { host });
    await engine.addNamedItem('item', { list: [{ k: 1 }] });
    for (const fn of ['pushedInto', 'asMethod']) expect(await engine.invoke(fn), fn).to.equal('not called');
    expect(await engine.invoke('readsThis'), 'a host method still reads it').to.equal('a-b');
  });
});

describe('lib/script-engine: the arrays and objects one call hands to host code', () => {
  it('are bounded in all, so sparse arrays cannot ask for gigabytes of copies, and the engine stays usable', async () => {
    const sparse = `
      function many() { const list = []; for (let i = 0; i < 64; i++) { const a = []; a.length = 3_000_000; list.push(a); } return host.count(list); }
      function some() { const a = []; a.length = 1000; return host.count([a, { k: 1 }, a]); }
    `;
    const { engine } = await startEngine(sparse, { host });
    // Before: each array was bounded alone, and the copies of 64 took 1.5 GB (the apartment ran out of memory).
    const err = await engine.invoke('many').catch((e: unknown) => e);
    expect(String(err)).to.contain('[membrane]').and.to.contain('in all');
    expect(await engine.invoke('some')).to.equal(3);
  });
});

describe('lib/script-engine: an object of a script class that host code hands back to the script', () => {
  it('comes back as itself without its realm looked up again in host code, where a Proxy trap could not be stopped', async () => {
    const handedBack = `
      class K {}
      let armed = false;
      let trapsInHostCode = 0;
      function keepAndGive() {
        const p = new Proxy(new K(), { getPrototypeOf() { if (armed) trapsInHostCode++; return K.prototype; } });
        local.keep(p);
        armed = true;
        const back = local.give(0);
        armed = false;
        return [back === p, trapsInHostCode];
      }
    `;
    const { engine, home } = await startEngine(handedBack, { host });
    await engine.addNamedItem('local', await home.createObject<Holder>('Holder'));
    // Before: giving it back read its prototype again, on the way out of host code, off the script's run.
    expect(await engine.invoke('keepAndGive')).to.deep.equal([true, 0]);
  });
});

describe('lib/script-engine: an array whose length changes while host code is handed its copy', () => {
  it('is copied to the length counted against the bound, so neither a getter nor a Proxy gets past it', async () => {
    const changing = `
      const sparse = () => { const a = []; a.length = 5_000_000; return a; };
      function grown() { const a = [0]; Object.defineProperty(a, 0, { get() { a.length = 5_000_000; return 1; } }); return host.count(a); }
      const lengthOf = (n) => new Proxy([], { get: (t, k) => (k === 'length' ? n : Reflect.get(t, k)) });
      function negative() { return host.count([lengthOf(-1e9), sparse()]); }
      function notANumber() { return host.count([lengthOf(NaN), sparse()]); }
    `;
    const { engine } = await startEngine(changing, { host });
    // Before: the copy read the length again at every element, and went on to the 5M it grew to.
    expect(await engine.invoke('grown')).to.equal(1);
    // Before: a length of -1e9 gave the call 1e9 more to copy, and NaN made the bound compare false.
    for (const fn of ['negative', 'notANumber']) {
      const err = await engine.invoke(fn).catch((e: unknown) => e);
      expect(String(err), fn).to.contain('[membrane]').and.to.contain('in all');
    }
  });
});

describe('lib/script-engine: a sparse array the script hands to host code', () => {
  it('is copied with its holes, so its copy holds only what it holds', async () => {
    const { engine } = await startEngine(`function sparse() { const a = []; a.length = 3_000_000; a[7] = 'x'; a[2_000_000] = 'y'; return host.held(a); }`, { host });
    // Before: the copy was dense, 3M slots each time, and copies host code kept added up past any bound.
    expect(await engine.invoke('sparse')).to.deep.equal([3_000_000, ['7', '2000000']]);
  });
});

describe('lib/script-engine: a sparse array holding a function that the script hands to host code in another apartment', () => {
  it('arrives with its holes, as one without a function does', async () => {
    const holey = `function withFunction() { const a = []; a.length = 1_000_000; a[0] = () => 1; a[3] = 'x'; return host.held(a); }`;
    const { engine } = await startEngine(holey, { host });
    // Before: the copy to the main apartment filled every hole after the function with undefined,
    // a million slots, however few the script's array held.
    expect(await engine.invoke('withFunction')).to.deep.equal([1_000_000, ['0', '3']]);
  });
});
