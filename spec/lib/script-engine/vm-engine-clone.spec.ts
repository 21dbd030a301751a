// clone(): a new engine with the same persistent code and items, no site, bound where its site is
// set; a clone built in another worker runs in parallel with the original.
import { expect } from 'chai';
import { EngineHost } from './fixtures/engine-host-client.js';

const PERSISTENT = `
function race(me) { while (!host.stopped(2)) host.tick(me); return host.thread(); }
function kind() { return 'persistent'; }
`;

describe('lib/script-engine VmScriptEngine: clone', () => {
  let home: EngineHost;
  let peer: EngineHost;
  let cells: Int32Array;
  beforeEach(async () => {
    [home, peer] = await Promise.all([EngineHost.start(), EngineHost.start()]);
    home.connectPeer(peer);
    cells = new Int32Array(new SharedArrayBuffer(16));
    await Promise.all([home.call('share', cells.buffer), peer.call('share', cells.buffer)]);
    await home.call('create');
    await home.call('addHostItem', 0, 'host', true);
    await home.call('setSite', 0);
    await home.call('parse', 0, PERSISTENT, { persistent: true });
    await home.call('parse', 0, 'function transient() { return 1; }');
    await home.call('setState', 0, 'started');
  });
  afterEach(() => Promise.all([home.terminate(), peer.terminate()]));

  it('gives an uninitialized engine with the persistent code only, even when another apartment asks', async () => {
    const copy = await peer.call('viaPeer', 'clone', 0);
    expect(await home.call('getState', copy)).to.equal('uninitialized');
    await peer.call('viaPeer', 'setSite', copy);
    await peer.call('viaPeer', 'setState', copy, 'started');
    expect(await peer.call('viaPeer', 'invoke', copy, 'kind')).to.equal('persistent');
    expect(await peer.attempt('viaPeer', 'invoke', copy, 'transient')).to.equal('NoInterfaceError:E_NOINTERFACE');
    expect(await home.attempt('invoke', copy, 'kind')).to.equal('WrongThreadError:E_UNEXPECTED');
    expect(await home.call('invoke', 0, 'transient')).to.equal(1);
  });

  it('runs a clone built on another thread in parallel with the original', async () => {
    const copy = await peer.call('fromImage', await home.call('image', 0));
    await peer.call('setSite', copy);
    await peer.call('setState', copy, 'started');
    const original = home.call('invoke', 0, 'race', 0);
    const clone = peer.call('invoke', copy, 'race', 1);
    // Both loops must be turning at once: neither can return before cell 2 is set.
    const seen = async () => {
      while (Atomics.load(cells, 0) === 0 || Atomics.load(cells, 1) === 0) await new Promise((r) => setTimeout(r, 2));
    };
    await seen();
    const clonedTicks = Atomics.load(cells, 1);
    while (Atomics.load(cells, 1) === clonedTicks || Atomics.load(cells, 0) === 0) await new Promise((r) => setTimeout(r, 2));
    Atomics.store(cells, 2, 1);
    const threads = await Promise.all([original, clone]);
    expect(threads).to.deep.equal([home.threadId, peer.threadId]);
  });
});
