// VmScriptEngine threading contract (COM-REFERENCE rule 20): free-threaded while uninitialized or
// closed, bound to the apartment that set the site. Apartments here are threads: the main thread
// and a peer worker that sends its commands from its own thread.
import { expect } from 'chai';
import { EngineHost } from './fixtures/engine-host-client.js';

describe('lib/script-engine VmScriptEngine: free-threaded until the site is set', () => {
  let home: EngineHost;
  let peer: EngineHost;
  beforeEach(async () => {
    [home, peer] = await Promise.all([EngineHost.start(), EngineHost.start()]);
    home.connectPeer(peer);
    await home.call('create');
  });
  afterEach(() => Promise.all([home.terminate(), peer.terminate()]));

  it('lets any apartment prepare an uninitialized engine', async () => {
    await peer.call('viaPeer', 'addValueItem', 0, 'fromPeer', { n: 1 });
    await home.call('addValueItem', 0, 'fromMain', { n: 2 });
    await peer.call('viaPeer', 'parse', 0, 'function sum() { return fromPeer.n + fromMain.n; }');
    expect(await peer.call('viaPeer', 'getState', 0)).to.equal('uninitialized');
    await peer.call('viaPeer', 'setSite', 0);
    await peer.call('viaPeer', 'setState', 0, 'started');
    expect(await peer.call('viaPeer', 'invoke', 0, 'sum')).to.equal(3);
  });

  it('binds to the apartment that sets the site and unbinds on reset', async () => {
    await peer.call('viaPeer', 'setSite', 0);
    expect(await home.attempt('setState', 0, 'started')).to.equal('WrongThreadError:E_UNEXPECTED');
    await peer.call('viaPeer', 'reset', 0);
    expect(await home.attempt('setSite', 0)).to.equal('ok');
  });

  it('is free-threaded again once closed: other apartments get the closed error, not wrong-thread', async () => {
    await home.call('setSite', 0);
    await home.call('close', 0);
    expect(await peer.attempt('viaPeer', 'setSite', 0)).to.equal('ApartmentError:E_UNEXPECTED');
    expect(await peer.attempt('viaPeer', 'close', 0)).to.equal('ok');
  });
});

describe('lib/script-engine VmScriptEngine: every operation from another apartment after setSite', () => {
  let home: EngineHost;
  let peer: EngineHost;
  before(async () => {
    [home, peer] = await Promise.all([EngineHost.start(), EngineHost.start()]);
    home.connectPeer(peer);
    await home.call('create');
    await home.call('setSite', 0);
    await home.call('parse', 0, 'function ping() { return "pong"; } function button_click() {}');
    await home.call('setState', 0, 'connected');
  });
  after(() => Promise.all([home.terminate(), peer.terminate()]));

  const refused: [string, ...unknown[]][] = [
    ['setSite', 0],
    ['addValueItem', 0, 'late', 1],
    ['parse', 0, 'var x = 1;'],
    ['setState', 0, 'disconnected'],
    ['reset', 0],
    ['invoke', 0, 'ping'],
    ['invokeWithin', 0, 1000, 'ping'],
    ['fireEvent', 0, 'button', 'click'],
    ['dispatch', 0, 'ping'],
    ['close', 0],
  ];
  for (const [op, ...args] of refused) {
    it(`refuses ${op} with WrongThreadError E_UNEXPECTED`, async () => {
      expect(await peer.attempt('viaPeer', op, ...args)).to.equal('WrongThreadError:E_UNEXPECTED');
    });
  }

  it('answers getState, clone, interrupt and its interrupt handle from any apartment', async () => {
    expect(await peer.call('viaPeer', 'getState', 0)).to.equal('connected');
    expect(await peer.attempt('viaPeer', 'clone', 0)).to.equal('ok');
    expect(await peer.attempt('viaPeer', 'interrupt', 0)).to.equal('ok');
    expect(await peer.call('viaPeer', 'handle', 0)).to.have.property('engineId');
  });

  it('still serves the binding apartment', async () => {
    expect(await home.call('invoke', 0, 'ping')).to.equal('pong');
    expect(await home.call('dispatch', 0, 'ping')).to.equal('pong');
  });
});
