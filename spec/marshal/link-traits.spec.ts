import { expect } from 'chai';
import { CUSTOM_MARSHAL, transfer } from '../../marshal/by-ref.js';
import { MarshalError } from '../../marshal/errors.js';
import type { LinkTraits } from '../../marshal/transport.js';
import { endpointPair } from './fixtures/endpoint-pair.js';

const UNSHARED: LinkTraits = { name: 'unshared', direct: true, carries: 'clone', sharedMemory: false };
const BYTES: LinkTraits = { name: 'bytes', direct: false, carries: 'bytes', sharedMemory: false };

/** A value that travels by value and declares that it needs shared memory, though its payload holds none. */
const sharedHandle = { [CUSTOM_MARSHAL]: () => ({ key: 'needs-shared', payload: 7, sharedMemory: true }) };

async function refusal(p: Promise<unknown>): Promise<MarshalError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err, 'the call was refused').to.be.instanceOf(MarshalError);
  return err as MarshalError;
}

describe('marshal/link-traits: the codec asks the link what it can carry', () => {
  it('refuses shared memory and values that declare they need it over a link that shares none, naming the path', async () => {
    const pair = endpointPair(5_000, UNSHARED);
    pair.b.control = { keep: (v: unknown) => typeof v };
    expect(pair.a.linkTo(2)).to.equal(UNSHARED);
    expect((await refusal(pair.a.call(2, 0, 'keep', [{ list: [1, new SharedArrayBuffer(4)] }]))).path).to.equal('args[0].list[1]');
    const declared = await refusal(pair.a.call(2, 0, 'keep', [sharedHandle]));
    expect(declared.path).to.equal('args[0]');
    expect(declared.message).to.match(/^\[no-shared-memory\] args\[0\] is a 'needs-shared' value/);
    expect(await pair.a.call(2, 0, 'keep', [{ plain: true }])).to.equal('object');
    expect(pair.warnings).to.deep.equal([]);
  });

  it('lets the same values through a link that shares memory', async () => {
    const pair = endpointPair();
    pair.b.control = { keep: (v: unknown) => v instanceof SharedArrayBuffer };
    expect(await pair.a.call(2, 0, 'keep', [new SharedArrayBuffer(4)])).to.equal(true);
  });

  it('refuses transfer lists over a link that carries bytes only', async () => {
    const pair = endpointPair(5_000, BYTES);
    pair.b.control = { keep: () => true };
    const buffer = new ArrayBuffer(4);
    const moved = await refusal(pair.a.call(2, 0, 'keep', [[transfer({ buffer }, [buffer])]]));
    expect(moved.path).to.equal('args[0][0]');
    expect(moved.message).to.match(/^\[link-carries-bytes\]/);
    expect(buffer.byteLength, 'nothing was moved').to.equal(4);
  });
});

describe('marshal/link-traits: calls queued before their link existed are checked when it arrives', () => {
  it('fails each call the link cannot carry alone, and sends the rest in order', async () => {
    const pair = endpointPair(5_000, UNSHARED, true);
    const seen: unknown[] = [];
    pair.b.control = { keep: (v: unknown) => seen.push(v) };
    expect(pair.a.linkTo(2), 'no link yet').to.equal(undefined);
    const first = pair.a.call(2, 0, 'keep', ['first']);
    const shared = pair.a.call(2, 0, 'keep', [{ buf: new SharedArrayBuffer(4) }]);
    const declared = pair.a.call(2, 0, 'keep', [sharedHandle]);
    const last = pair.a.call(2, 0, 'keep', ['last']);
    pair.attach();
    expect((await refusal(shared)).path).to.equal('args[0].buf');
    expect((await refusal(declared)).path, 'a value that declares it needs shared memory').to.equal('args[0]');
    expect([await first, await last]).to.deep.equal([1, 2]);
    expect(seen).to.deep.equal(['first', 'last']);
  });

  it('fails queued calls that move objects when the link carries bytes only', async () => {
    const pair = endpointPair(5_000, BYTES, true);
    pair.b.control = { keep: () => true };
    const buffer = new ArrayBuffer(4);
    const moved = pair.a.call(2, 0, 'keep', [transfer({ buffer }, [buffer])]);
    const plain = pair.a.call(2, 0, 'keep', ['plain']);
    pair.attach();
    expect((await refusal(moved)).message).to.match(/^\[link-carries-bytes\]/);
    expect(await plain).to.equal(true);
  });
});
