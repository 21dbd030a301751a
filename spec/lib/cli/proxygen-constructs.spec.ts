import { expect } from 'chai';
import { InvalidArgumentError, NoInterfaceError, byRef, isProxy, transfer, type Runtime } from '../../../lib/index.js';
import { Uri } from '../../fixtures/proxygen/constructs-api.js';
import { Store } from '../../fixtures/proxygen/constructs-impl.js';
import { bindDocumentStore, type DocumentStoreProxy } from '../../fixtures/proxygen/generated/constructs-api.remote.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';

let rt: Runtime | undefined;

/** A Store in a worker apartment, bound to the generated DocumentStore proxy. */
async function remoteStore(): Promise<DocumentStoreProxy<{ owner: string }>> {
  ({ rt } = await startRuntime());
  rt.registerClass('Store', { module: fixture('proxygen/constructs-impl.js'), export: 'Store' });
  const apt = await rt.createApartment({ name: 'store' });
  return bindDocumentStore<{ owner: string }>(await apt.createObject('Store'));
}

const doc = { uri: 'file:///a.txt', version: 1 };
const origin = { line: 0, character: 0 };

describe('lib/cli: generated proxies serve every supported construct across apartments', () => {
  it('reads and writes properties (get_/put_), and subscribes to events whose listener travels by reference', async () => {
    const store = await remoteStore();
    expect(await store.get_title()).to.equal('untitled');
    await store.put_title('notes');
    expect(await store.get_title()).to.equal('notes');
    expect(await store.get_size()).to.equal(3);
    expect(await store.get_note()).to.equal(undefined);
    const heard: { uri: string; version: number }[] = [];
    const subscription = await store.onDidChange((e) => void heard.push(e));
    expect(await store.edit(doc, [])).to.equal(0);
    expect(heard).to.deep.equal([doc]);
    await subscription.dispose();
    await store.edit({ ...doc, version: 2 }, []);
    expect(heard, 'no event after the subscription was disposed').to.have.length(1);
  });

  it('calls overloads, generic methods, records, tuples, intersections, unions and built-ins', async () => {
    const store = await remoteStore();
    expect(await store.edit(doc, [{ kind: 'insert', at: origin, text: 'x' }, { kind: 'delete', range: { start: origin, end: origin } }])).to.equal(2);
    expect(await store.find(1)).to.equal('beta');
    expect(await store.find(/a$/, 2)).to.deep.equal(['alpha', 'beta']);
    const kind: 'final' = await store.tag('final', { owner: 'ann' });
    expect(kind).to.equal('final');
    expect(await store.get_note()).to.equal('final by ann');
    expect(await store.setAll({ a: 1, b: 2 })).to.equal(3);
    expect(await store.counts({ x: [1], y: [] })).to.equal(2);
    expect(await store.span([1, 4])).to.equal('span 1-4');
    expect(await store.span([1, 4, 'word'])).to.equal('word 1-4');
    expect(await store.label({ label: 'l', tags: ['a', 'b'] })).to.equal('l[a,b]');
    const at = new Date(Date.UTC(2024, 0, 2));
    expect(await store.schedule(at, 10n, new Set(['a', 'b']), new Map([['x', 1]]))).to.equal(`${at.toISOString()} every 10 for a+b limit 1`);
    expect(await store.explain(new RangeError('too far'))).to.equal('RangeError: too far');
    expect(await store.open(new Uri('file', '/b.txt')), 'a class instance arrives with its data members').to.equal('file:/b.txt');
    expect(await store.calls()).to.equal(12);
  });

  it('moves binary data with transfer(), and rebuilds a Buffer that arrived as a Uint8Array', async () => {
    const store = await remoteStore();
    const bytes = new Uint8Array([1, 2, 3]);
    const raw = new ArrayBuffer(8);
    const result = await store.write(transfer(bytes, [bytes.buffer]), raw, Buffer.from('hi'));
    expect(result).to.equal('3+8+hi (Buffer: true)');
    expect(bytes.byteLength, 'the transferred buffer is detached on the sender').to.equal(0);
    expect(raw.byteLength, 'a buffer not transferred is copied').to.equal(8);
  });

  it('passes objects with methods by reference, callbacks as functions, and gives `this` back as the proxy itself', async () => {
    const store = await remoteStore();
    const log: string[] = [];
    await store.watch(byRef({ record: (entry: string) => void log.push(entry) }));
    expect(log).to.deep.equal(['watching untitled']);
    const seen: string[] = [];
    expect(await store.each((line, i) => void seen.push(`${i}:${line}`))).to.equal(3);
    expect(seen).to.deep.equal(['0:alpha', '1:beta', '2:gamma']);
    expect(await store.touch(), 'a member returning this resolves to the proxy').to.equal(store);
    const err = await store.flush().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NoInterfaceError);
    expect((err as Error).message).to.contain('[not-implemented] DocumentStore.flush is optional');
  });

  it('serves the same interface to a caller in the same apartment', async () => {
    const store = await bindDocumentStore(new Store());
    await store.put_title('local');
    expect(await store.get_title()).to.equal('local');
    expect(await store.find(/^g/)).to.deep.equal(['gamma']);
    expect(await store.write(new Uint8Array(1), new ArrayBuffer(2), Buffer.from('b'))).to.equal('1+2+b (Buffer: true)');
    const local = new Store();
    const recorder = local.recorderFor([]);
    expect(isProxy(recorder)).to.equal(false);
    expect(await (await bindDocumentStore(local)).watch(recorder)).to.equal(undefined);
  });
});

describe('lib/cli: generated stubs refuse bad values from plain JavaScript at every level, before the method runs', () => {
  it('refuses each with InvalidArgumentError naming the parameter, the path, what was expected and what came', async () => {
    const store = await remoteStore();
    // The proxy as plain JavaScript sees it: no types, any value.
    const js = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const date = new Date(0);
    const cases: [string, unknown[], string, string][] = [
      ['put_title', [42], 'value', 'args[0]: expected string, got number'],
      ['edit', [{ uri: 'u', version: '1' }, []], 'doc', 'args[0].version: expected number, got string'],
      ['edit', [{ version: 1 }, []], 'doc', 'args[0].uri: expected string, got undefined'],
      ['edit', [doc, [{ kind: 'insert', at: { line: 1, character: 'x' }, text: 't' }]], 'changes', 'args[1][0].at.character: expected number, got string'],
      ['edit', [doc, [{ kind: 'insert', at: origin, text: 't' }, { kind: 'delete', range: { start: origin } }]], 'changes', 'args[1][1].range.end: expected Position, got undefined'],
      ['edit', [doc, [{ kind: 'move' }]], 'changes', 'args[1][0]: expected Change, got object'],
      ['edit', [doc, 'changes'], 'changes', 'args[1]: expected Change[], got string'],
      ['edit', [doc], 'changes', '[arity] DocumentStore.edit takes 2 argument(s), got 1'],
      ['find', ['x'], 'line', 'args[0]: expected number, got string'],
      ['find', [/a/, 'two'], 'limit', 'args[1]: expected number | undefined, got string'],
      ['tag', ['published', { owner: 'x' }], 'kind', 'args[0]: expected "draft" | "final", got string'],
      ['tag', ['draft', 5], 'meta', 'args[1]: expected object, got number'],
      ['setAll', [{ a: 1, b: 'two' }], 'values', 'args[0].b: expected number, got string'],
      ['counts', [{ x: [1, 'y'] }], 'byName', 'args[0].x[1]: expected number, got string'],
      ['span', [[1]], 'range', 'args[0]: expected [number, number, string | undefined?], got array'],
      ['span', [[1, 2, 3]], 'range', 'args[0][2]: expected string | undefined, got number'],
      ['label', [{ label: 'l' }], 'item', 'args[0].tags: expected string[], got undefined'],
      ['label', [{ label: 'l', tags: [1] }], 'item', 'args[0].tags[0]: expected string, got number'],
      ['schedule', ['2020-01-01', 1n, new Set(), new Map()], 'at', 'args[0]: expected Date, got string'],
      ['schedule', [date, 1, new Set(), new Map()], 'every', 'args[1]: expected bigint, got number'],
      ['schedule', [date, 1n, new Set(['a', 2]), new Map()], 'names', 'args[2].values()[1]: expected string, got number'],
      ['schedule', [date, 1n, new Set(), new Map([['k', 'v']])], 'limits', 'args[3].get("k"): expected number, got string'],
      ['explain', [{ name: 'Error', message: 'x' }], 'error', 'args[0]: expected Error, got object'],
      ['write', [new Uint16Array(2), new ArrayBuffer(1), Buffer.from('b')], 'bytes', 'args[0]: expected Uint8Array, got Uint16Array'],
      ['write', [new Uint8Array(1), new Uint8Array(1), Buffer.from('b')], 'raw', 'args[1]: expected ArrayBuffer, got Uint8Array'],
      ['write', [new Uint8Array(1), new ArrayBuffer(1), 'b'], 'buf', 'args[2]: expected Buffer, got string'],
      ['open', [{ scheme: 'file' }], 'uri', 'args[0].path: expected string, got undefined'],
      ['watch', [{ record: 'not a method' }], 'recorder', 'args[0]: expected remote Recorder, got object; pass a proxy of a Recorder, or send your own object with byRef()'],
      ['each', ['not a function'], 'visit', 'args[0]: expected function, got string'],
      ['onDidChange', [42], 'listener', 'args[0]: expected function, got number'],
      ['get_title', [1], '(none)', '[arity] DocumentStore.get_title takes 0 argument(s), got 1'],
    ];
    for (const [member, args, parameter, message] of cases) {
      const err = await js[member]!(...args).catch((e: unknown) => e);
      expect(err, `${member}(${message})`).to.be.instanceOf(InvalidArgumentError);
      expect((err as Error).message, member).to.contain(message);
      expect((err as InvalidArgumentError).parameter, (err as Error).message).to.equal(parameter);
    }
    expect(await store.calls(), 'no refused call reached the object').to.equal(0);
    expect(await store.get_title(), 'the refused write did not happen').to.equal('untitled');
  });

  it('refuses a bad value in a local call too, and a plain object where a proxy or byRef() object is needed', async () => {
    const local = new Store();
    const store = await bindDocumentStore(local);
    const js = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const err = await js.edit!({ uri: 'u', version: 1 }, [{ kind: 'delete', range: { start: origin, end: { line: 'one', character: 0 } } }]).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(InvalidArgumentError);
    expect((err as Error).message).to.contain('[bad-argument] DocumentStore.edit: args[1][0].range.end.line: expected number, got string (parameter \'changes\')');
    const withGetter = Object.defineProperty({}, 'record', { get: () => () => undefined });
    const refused = await js.watch!(withGetter).catch((e: unknown) => e);
    expect(refused, 'a method behind a getter is never run at the boundary').to.be.instanceOf(InvalidArgumentError);
    expect(local.calls()).to.equal(0);
  });
});
