import { expect } from 'chai';
import { ReadableStream } from 'node:stream/web';
import type { ModuleProbe } from '../fixtures/module-probe.js';
import type { ScriptEngine } from '../../lib/script-engine/script-engine.js';
import { byRef } from '../../marshal/by-ref.js';
import { fixture, startRuntime } from '../fixtures/runtime-fixture.js';

// node:crypto takes about 3 ms to load in a fresh worker and node:stream/web 1-2 ms: a worker
// apartment's first ids come from bytes its host gave it, and it loads web streams when one comes.
const CRYPTO = '^crypto$';
const WEB_STREAMS = '^stream/web$|^internal/webstreams/readablestream$';
// The `performance` global loads perf_hooks, 1-2 ms of a fresh worker's start: the runtime reads
// process.hrtime instead (marshal/monotonic-clock.ts).
const PERF_HOOKS = '^perf_hooks$|^internal/perf/performance$';
// node:module and node:url, 0.7 ms together: only for a class registered by path or package name,
// or a host whose TypeScript loader a worker must register itself.
const MODULE_AND_URL = '^module$|^url$';

for (const transport of ['shared-memory', 'port'] as const) {
  describe(`apartments/start-cost: a worker apartment loads node:crypto and node:stream/web only when it needs them (${transport})`, () => {
    it('exports its objects without node:crypto, and loads web streams once a stream arrives', async () => {
      const { rt } = await startRuntime({ transport });
      rt.registerClass('ModuleProbe', { module: fixture('module-probe.js'), export: 'ModuleProbe' });
      const apt = await rt.createApartment({ name: 'lean' });
      // Creating the object exported it from the apartment: it has a grant.
      const probe = await apt.createObject<ModuleProbe>('ModuleProbe');
      expect(await probe.loaded(CRYPTO), 'node:crypto in the apartment').to.deep.equal([]);
      expect(await probe.loaded(WEB_STREAMS), 'web streams in the apartment').to.deep.equal([]);
      // An async iterable travels as a stream without web streams.
      async function* numbers(): AsyncGenerator<number> {
        yield 1;
        yield 2;
      }
      expect(await probe.total(numbers())).to.equal(3);
      expect(await probe.loaded(WEB_STREAMS), 'web streams after an async iterable').to.deep.equal([]);
      const readable = new ReadableStream<number>({
        start(controller) {
          for (const n of [10, 20, 30]) controller.enqueue(n);
          controller.close();
        },
      });
      expect(await probe.total(readable as unknown as AsyncIterable<number>), 'a ReadableStream arrives and is read').to.equal(60);
      expect(await probe.loaded(WEB_STREAMS), 'web streams once one arrived').to.not.deep.equal([]);
      expect(await probe.loaded(CRYPTO), 'node:crypto still').to.deep.equal([]);
    });
  });
}

for (const transport of ['shared-memory', 'port'] as const) {
  describe(`apartments/start-cost: a worker apartment starts and calls both ways without perf_hooks, node:module or node:url (${transport})`, () => {
    it('serves calls and makes its own, deadlines and spins included, without the performance global', async () => {
      const { rt } = await startRuntime({ transport });
      rt.registerClass('ModuleProbe', { module: fixture('module-probe.js'), export: 'ModuleProbe' });
      const apt = await rt.createApartment({ name: 'lean' });
      const probe = await apt.createObject<ModuleProbe>('ModuleProbe');
      // The apartment calls back into the host for each item of an iterable it reads.
      async function* numbers(): AsyncGenerator<number> {
        for (let i = 1; i <= 20; i++) yield i;
      }
      for (let round = 0; round < 5; round++) expect(await probe.total(numbers())).to.equal(210);
      expect(await probe.loaded(PERF_HOOKS), 'perf_hooks in the apartment').to.deep.equal([]);
      expect(await probe.loaded(MODULE_AND_URL), 'node:module and node:url in the apartment').to.deep.equal([]);
      expect(await probe.touchPerformance(), 'the global still works when code reads it').to.be.a('number');
      expect(await probe.loaded(PERF_HOOKS), 'perf_hooks once code read the global').to.not.deep.equal([]);
    });
  });
}

// node:net is loaded only by a process's byte pipe and node:vm only by the script engine, each in an
// engine file of its own (.ci/bundle-engine.mjs): a plain worker apartment compiles neither.
describe('apartments/start-cost: a worker apartment loads the script engine and the process and node links only when it needs them', () => {
  it('starts without node:net or node:vm, and loads node:vm once it makes a script engine', async () => {
    const { rt } = await startRuntime();
    rt.registerClass('ModuleProbe', { module: fixture('module-probe.js'), export: 'ModuleProbe' });
    const apt = await rt.createApartment({ name: 'lean' });
    const probe = await apt.createObject<ModuleProbe>('ModuleProbe');
    expect(await probe.loaded('^net$'), 'node:net in the apartment').to.deep.equal([]);
    expect(await probe.loaded('^vm$'), 'node:vm in the apartment').to.deep.equal([]);
    // Their link kinds are deferred here: an end of either is refused without loading them.
    for (const kind of ['ipc', 'nats']) {
      expect(await probe.refusal(kind), kind).to.match(new RegExp(`^InvalidArgumentError: \\[link-kind\\] this thread has not loaded link kind '${kind}' \\(link kind\\)`));
    }
    expect(await probe.loaded('^net$'), 'node:net after the refusals').to.deep.equal([]);
    const engine = await apt.createObject<ScriptEngine>('ScriptEngine');
    await engine.setSite(byRef({}));
    await engine.parseScriptText('function answer() { return 6 * 7; }');
    await engine.setState('started');
    expect(await engine.invoke('answer'), 'the engine, loaded on demand, runs').to.equal(42);
    expect(await probe.loaded('^vm$'), 'node:vm once an engine was made').to.deep.equal(['NativeModule vm']);
    expect(await probe.loaded('^net$'), 'node:net still').to.deep.equal([]);
  });

  it("rebuilds an engine's copy in an apartment that never loaded the engine", async () => {
    const { rt } = await startRuntime();
    rt.registerClass('ModuleProbe', { module: fixture('module-probe.js'), export: 'ModuleProbe' });
    const [home, other] = [await rt.createApartment({ name: 'home' }), await rt.createApartment({ name: 'other' })];
    const engine = await home.createObject<ScriptEngine>('ScriptEngine');
    await engine.setSite(byRef({}));
    await engine.parseScriptText('function answer() { return 6 * 7; }', { persistent: true });
    const probe = await other.createObject<ModuleProbe>('ModuleProbe');
    expect(await probe.loaded('^vm$'), 'node:vm before the copy arrives').to.deep.equal([]);
    expect(await probe.runClone(engine, 'answer'), 'the copy runs where it arrived').to.equal(42);
    expect(await probe.loaded('^vm$'), 'node:vm once the copy arrived').to.deep.equal(['NativeModule vm']);
  });
});
