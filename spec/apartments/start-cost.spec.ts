import { expect } from 'chai';
import { ReadableStream } from 'node:stream/web';
import type { ModuleProbe } from '../fixtures/module-probe.js';
import { fixture, startRuntime } from '../fixtures/runtime-fixture.js';

// node:crypto takes about 3 ms to load in a fresh worker and node:stream/web 1-2 ms: a worker
// apartment's first ids come from bytes its host gave it, and it loads web streams when one comes.
const CRYPTO = '^crypto$';
const WEB_STREAMS = '^stream/web$|^internal/webstreams/readablestream$';

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
