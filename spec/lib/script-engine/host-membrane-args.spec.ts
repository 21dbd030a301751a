// What a script passes to host code as arguments: arrays and plain objects of its own are handed
// over as copies (see argToHost in lib/script-engine/host-membrane.ts). These specs are about how the
// copy is made.
import { expect } from 'chai';
import { interruptScript } from '../../../lib/index.js';
import type { Holder } from '../../fixtures/holder.js';
import { startEngine } from '../../fixtures/started-engine.js';

const host = { add: async (x: number, y: number) => x + y };

// Each hands host code an argument whose copy runs script code that spins for a while: spinning[0]
// is 1 while it spins, 2 once it gave up.
const spins = `
  const spin = () => { Atomics.store(spinning, 0, 1); const end = Date.now() + 3000; while (Date.now() < end) {} Atomics.store(spinning, 0, 2); };
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
