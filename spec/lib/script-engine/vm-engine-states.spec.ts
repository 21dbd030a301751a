// VmScriptEngine state rules (COM-REFERENCE rule 21), driven in a worker from the main thread.
import { expect } from 'chai';
import { EngineHost } from './fixtures/engine-host-client.js';

describe('lib/script-engine VmScriptEngine: state transitions', () => {
  let host: EngineHost;
  beforeEach(async () => {
    host = await EngineHost.start();
    await host.call('create');
  });
  afterEach(() => host.terminate());

  it('walks uninitialized -> initialized (setSite) -> started -> connected <-> disconnected -> closed', async () => {
    const seen = [await host.call('getState', 0)];
    await host.call('setSite', 0);
    seen.push(await host.call('getState', 0));
    for (const state of ['started', 'connected', 'disconnected', 'connected', 'closed']) {
      await host.call('setState', 0, state);
      seen.push(await host.call('getState', 0));
    }
    expect(seen).to.deep.equal(['uninitialized', 'initialized', 'started', 'connected', 'disconnected', 'connected', 'closed']);
  });

  it('treats setting the state in force as a no-op', async () => {
    expect(await host.attempt('setState', 0, 'uninitialized')).to.equal('ok');
    await host.call('setSite', 0);
    await host.call('parse', 0, 'var runs = (typeof runs === "number" ? runs : 0) + 1;');
    await host.call('setState', 0, 'started');
    expect(await host.attempt('setState', 0, 'started')).to.equal('ok');
    await host.call('parse', 0, 'function runCount() { return runs; }');
    expect(await host.call('invoke', 0, 'runCount')).to.equal(1);
  });

  it('refuses a second site with E_UNEXPECTED', async () => {
    await host.call('setSite', 0);
    expect(await host.attempt('setSite', 0)).to.equal('ApartmentError:E_UNEXPECTED');
  });

  it('refuses to leave closed with E_UNEXPECTED, and closing again is a no-op', async () => {
    await host.call('setState', 0, 'closed');
    expect(await host.attempt('setState', 0, 'uninitialized')).to.equal('ApartmentError:E_UNEXPECTED');
    expect(await host.attempt('setState', 0, 'started')).to.equal('ApartmentError:E_UNEXPECTED');
    expect(await host.attempt('setSite', 0)).to.equal('ApartmentError:E_UNEXPECTED');
    expect(await host.attempt('close', 0)).to.equal('ok');
    expect(await host.attempt('setState', 0, 'closed')).to.equal('ok');
  });

  it('refuses operations out of state order with E_UNEXPECTED', async () => {
    expect(await host.attempt('setState', 0, 'initialized')).to.equal('ApartmentError:E_UNEXPECTED');
    expect(await host.attempt('setState', 0, 'started')).to.equal('ApartmentError:E_UNEXPECTED');
    await host.call('setSite', 0);
    await host.call('parse', 0, 'function f() { return 1; }');
    expect(await host.attempt('invoke', 0, 'f')).to.equal('ApartmentError:E_UNEXPECTED');
    expect(await host.attempt('setState', 0, 'disconnected')).to.equal('ApartmentError:E_UNEXPECTED');
    await host.call('setState', 0, 'connected');
    expect(await host.attempt('setState', 0, 'started')).to.equal('ApartmentError:E_UNEXPECTED');
    expect(await host.attempt('setState', 0, 'bogus')).to.equal('InvalidArgumentError:E_INVALIDARG');
  });

  it('keeps script text parsed before start and runs it on start', async () => {
    await host.call('setSite', 0);
    await host.call('parse', 0, 'var started = "yes"; function whenStarted() { return started; }');
    await host.call('setState', 0, 'started');
    expect(await host.call('invoke', 0, 'whenStarted')).to.equal('yes');
  });

  it('delivers events only while connected', async () => {
    await host.call('setSite', 0);
    await host.call('parse', 0, 'var clicks = 0; function button_click(n) { clicks += n; } function count() { return clicks; }');
    await host.call('setState', 0, 'connected');
    expect(await host.call('fireEvent', 0, 'button', 'click', 2)).to.equal(true);
    await host.call('setState', 0, 'disconnected');
    expect(await host.call('fireEvent', 0, 'button', 'click', 5)).to.equal(false);
    expect(await host.call('fireEvent', 0, 'button', 'missing')).to.equal(false);
    expect(await host.call('invoke', 0, 'count')).to.equal(2);
  });
});

describe('lib/script-engine VmScriptEngine: reset to uninitialized', () => {
  let host: EngineHost;
  beforeEach(async () => {
    host = await EngineHost.start();
    await host.call('create');
    await host.call('addValueItem', 0, 'config', { level: 3 }, true);
    await host.call('addValueItem', 0, 'scratch', { level: 9 });
    await host.call('setSite', 0);
    await host.call('parse', 0, 'var kept = 0; function keptFn() { kept++; return kept + config.level; }', { persistent: true });
    await host.call('parse', 0, 'function droppedFn() { return scratch.level; }');
    await host.call('setState', 0, 'started');
    await host.call('invoke', 0, 'keptFn');
  });
  afterEach(() => host.terminate());

  it('drops the site, unbinds, and needs a site before it starts again', async () => {
    await host.call('reset', 0);
    expect(await host.call('getState', 0)).to.equal('uninitialized');
    expect(await host.attempt('invoke', 0, 'keptFn')).to.equal('ApartmentError:E_UNEXPECTED');
    expect(await host.attempt('setState', 0, 'started')).to.equal('ApartmentError:E_UNEXPECTED');
    expect(await host.attempt('setSite', 0)).to.equal('ok');
  });

  it('keeps persistent code and items (re-run from scratch on start) and drops the rest', async () => {
    await host.call('reset', 0);
    await host.call('setSite', 0);
    await host.call('setState', 0, 'started');
    expect(await host.call('invoke', 0, 'keptFn')).to.equal(4);
    expect(await host.attempt('invoke', 0, 'droppedFn')).to.equal('NoInterfaceError:E_NOINTERFACE');
    await host.call('parse', 0, 'function hasScratch() { return typeof scratch; }');
    expect(await host.call('invoke', 0, 'hasScratch')).to.equal('undefined');
  });
});
