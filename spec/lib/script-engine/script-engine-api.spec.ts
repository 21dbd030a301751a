import { expect } from 'chai';
import {
  InvalidArgumentError, NoInterfaceError, bindScriptEngineApi, byRef, type Runtime, type ScriptEngine, type ScriptEngineApi,
} from '../../../lib/index.js';
import { CUSTOM_MARSHAL } from '../../../marshal/by-ref.js';
import { ProtocolError } from '../../../marshal/errors.js';
import { ENGINE_COPY } from '../../../lib/script-engine/engine-handles.js';
import { startEngineWithUser } from '../../fixtures/started-engine.js';
import { startRuntime } from '../../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

/** Compile-time: the class offers every method of its declared remoting interface. */
const engineImplementsApi: ScriptEngine extends ScriptEngineApi ? true : never = true;

async function engineRef(): Promise<object> {
  ({ rt } = await startRuntime());
  const home = await rt.createApartment({ name: 'engine-home' });
  return home.createObject('ScriptEngine');
}

describe('lib/script-engine: the generated ScriptEngineApi', () => {
  it('drives an engine through the typed proxy, by index, rest arguments included', async () => {
    expect(engineImplementsApi).to.equal(true);
    const engine = await bindScriptEngineApi(await engineRef());
    await engine.setSite(byRef({}));
    await engine.addNamedItem('base', 10, { persistent: true });
    await engine.parseScriptText('function add(...xs) { return xs.reduce((a, b) => a + b, base); }', { persistent: true });
    await engine.setState('started');
    expect(await engine.invoke('add')).to.equal(10);
    expect(await engine.invoke('add', 1, 2, 3)).to.equal(16);
    expect(await engine.invokeWithin(undefined, 'add', 5)).to.equal(15);
    expect(await engine.getState()).to.equal('started');
    await engine.close();
    expect(await engine.getState()).to.equal('closed');
  });

  it('refuses bad arguments with InvalidArgumentError naming the parameter, before the engine is touched', async () => {
    const ref = await engineRef();
    const loose = ref as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const cases: [string, unknown[], string][] = [
      ['addNamedItem', [42, 1], 'name'],
      ['addNamedItem', ['x', 1, { persistent: 'yes' }], 'options'],
      ['parseScriptText', [1], 'text'],
      ['parseScriptText', ['1', { timeoutMs: '50' }], 'options'],
      ['setState', ['running'], 'next'],
      ['invoke', [], 'name'],
      ['invoke', [5], 'name'],
      ['invokeWithin', ['50', 'f'], 'timeoutMs'],
      ['getState', [1], '(none)'],
    ];
    for (const [method, args, parameter] of cases) {
      const err = await loose[method]!(...args).catch((e: unknown) => e);
      expect(err, `${method}(${JSON.stringify(args)})`).to.be.instanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).parameter, (err as Error).message).to.equal(parameter);
    }
    for (const member of ['threading', 'interleave', 'remoteInterface', 'state', 'items']) {
      expect(await loose[member]!().catch((e: unknown) => e), member).to.be.instanceOf(NoInterfaceError);
    }
    const engine = await bindScriptEngineApi(ref);
    expect(await engine.getState(), 'no refused call reached the engine').to.equal('uninitialized');
    await engine.setSite(byRef({}));
    await engine.setState('started');
    expect(await engine.parseScriptText('typeof x'), 'no named item was added').to.equal('undefined');
  });
});

// What a peer could send as an engine's copy (a clone or a move travels by value): it used to build an
// engine from anything, failing with a TypeError from inside the engine, or building one whose
// stored time limit failed its start.
const forgedCopy = (payload: unknown): object => ({ [CUSTOM_MARSHAL]: () => ({ key: ENGINE_COPY, payload }) });

describe('lib/script-engine: an engine copy another apartment sends that is not one', () => {
  it('is refused with ProtocolError [engine-copy] saying what is wrong, before any engine is built', async () => {
    const { user } = await startEngineWithUser('1');
    const forgeries = [
      { code: 5, items: [] },
      { code: [{ text: 'var a = 1;', persistent: false, timeoutMs: 0 }], items: [] },
      { code: [], items: [['not a name!', 1, false]] },
    ];
    for (const payload of forgeries) {
      const err = await user.attempt(forgedCopy(payload) as never, 'getState').catch((e: unknown) => e);
      expect(err, JSON.stringify(payload)).to.be.instanceOf(ProtocolError);
      expect((err as Error).message).to.match(/^\[engine-copy\] /);
    }
  });
});
