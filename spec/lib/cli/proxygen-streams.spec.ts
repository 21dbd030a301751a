import { expect } from 'chai';
import { ReadableStream, WritableStream } from 'node:stream/web';
import { InvalidArgumentError, isProxy, release, type Runtime } from '../../../lib/index.js';
import type { Hit } from '../../fixtures/proxygen/stream-api.js';
import { bindStreamApi, type StreamApiProxy } from '../../fixtures/proxygen/generated/stream-api.remote.js';
import { expectNoExports, fixture, startRuntime } from '../../fixtures/runtime-fixture.js';

async function startStreams(): Promise<{ rt: Runtime; api: StreamApiProxy; target: unknown }> {
  const { rt } = await startRuntime();
  rt.registerClass('StreamImpl', { module: fixture('proxygen/stream-impl.js'), export: 'StreamImpl' });
  const apt = await rt.createApartment({ name: 'streams' });
  const target = await apt.createObject('StreamImpl');
  return { rt, api: await bindStreamApi(target), target };
}

async function* lines(...texts: string[]): AsyncGenerator<string> {
  for (const text of texts) yield text;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('lib/cli: generated proxies pass and return async iterables by reference, as streams', () => {
  it('sends an async generator as a parameter and reads the async iterable and generator results with for await', async () => {
    const { rt, api, target } = await startStreams();
    const hits: AsyncIterable<Hit> = await api.search(lines('a cat', 'a dog', 'cat food'), 'cat');
    expect(isProxy(hits), 'a stream, not a proxy to the generator').to.equal(false);
    expect(await collect(hits)).to.deep.equal([{ line: 1, text: 'a cat' }, { line: 3, text: 'cat food' }]);
    const counted: AsyncIterableIterator<number> = await api.count(5);
    expect(await collect(counted)).to.deep.equal([1, 2, 3, 4, 5]);
    release(target);
    await expectNoExports(rt);
  });
});

describe('lib/cli: generated proxies pass and return web streams by reference', () => {
  it('sends a ReadableStream and a WritableStream, and gets each kind back as the same kind', async () => {
    const { rt, api, target } = await startStreams();
    let sent = 0;
    const source = new ReadableStream<Uint8Array>({ pull: (c) => (sent++ < 4 ? c.enqueue(new Uint8Array(1000)) : c.close()) });
    expect(await api.measure(source)).to.equal(4000);
    const chunks = await api.chunks(3, 512);
    expect(chunks).to.be.instanceOf(ReadableStream);
    expect((await collect(chunks)).map((c) => c.byteLength)).to.deep.equal([512, 512, 512]);
    const got: string[] = [];
    await api.fill(new WritableStream<string>({ write: (line) => void got.push(line) }), ['x', 'y']);
    expect(got).to.deep.equal(['x', 'y']);
    const sink = await api.collector();
    expect(sink).to.be.instanceOf(WritableStream);
    const writer = sink.getWriter();
    await writer.write('one');
    await writer.write('two');
    await writer.close();
    expect(await api.written()).to.deep.equal(['one', 'two']);
    release(target);
    await expectNoExports(rt);
  });
});

describe('lib/cli: generated stubs refuse what is not a stream where one is declared', () => {
  it('refuses an array for an async iterable and an iterable for a web stream, naming the parameter, before the object runs', async () => {
    const { api, target } = await startStreams();
    const loose = target as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [() => loose.search!(['a cat'], 'cat'), 'lines', /expected AsyncIterable<string>, got/],
      [() => loose.measure!(lines('x')), 'chunks', /expected ReadableStream<Uint8Array>/],
      [() => loose.fill!({ write: 1 }, []), 'sink', /expected WritableStream<string>/],
    ];
    for (const [call, parameter, message] of cases) {
      const err = await call().catch((e: unknown) => e);
      expect(err, parameter).to.be.instanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).parameter).to.equal(parameter);
      expect((err as Error).message).to.match(message);
    }
    expect(await api.written(), 'nothing ran').to.deep.equal([]);
  });
});
