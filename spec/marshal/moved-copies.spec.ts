import { expect } from 'chai';
import { transfer } from '../../marshal/by-ref.js';
import { encodeArgs, encodeValue } from '../../marshal/codec.js';
import type { LinkTraits } from '../../marshal/transport.js';
import { portLink } from '../../marshal/transports/port-link.js';
import { sharedMemoryLink } from '../../marshal/transports/shared-memory-link.js';
import { endpointPair } from './fixtures/endpoint-pair.js';

/** A link that moves copies of buffers from 1 KiB, as the shared-memory link does (the port link from 32 KiB). */
const MOVING: LinkTraits = { name: 'moving', direct: true, carries: 'clone', sharedMemory: true, moveCopiesFrom: 1024 };

function filled(bytes: number, seed = 1): ArrayBuffer {
  const buffer = new ArrayBuffer(bytes);
  new Uint8Array(buffer).forEach((_, i, a) => (a[i] = (i * 7 + seed) & 0xff));
  return buffer;
}

describe('marshal/moved-copies: large buffers are copied by the sender and the copy moved', () => {
  it('is what the port (from 32 KiB) and shared-memory (from 1 KiB) links ask for', () => {
    expect([portLink.moveCopiesFrom, sharedMemoryLink.moveCopiesFrom]).to.deep.equal([32 * 1024, 1024]);
  });

  it('sends a copy in the transfer list, leaving the caller its buffer, and lets small buffers through as they are', () => {
    const { a } = endpointPair(5_000, MOVING);
    const big = filled(4096);
    const small = new ArrayBuffer(100);
    const enc = encodeArgs(a, [big, small], 2);
    const [sentBig, sentSmall] = enc.value as [ArrayBuffer, ArrayBuffer];
    expect(sentBig).to.not.equal(big);
    expect(enc.transfer).to.deep.equal([sentBig]);
    expect(new Uint8Array(sentBig)).to.deep.equal(new Uint8Array(big));
    expect(sentSmall, 'below the threshold').to.equal(small);
    expect(encodeValue(a, small, 2)).to.deep.equal({ value: small, refs: 0, transfer: undefined });
  });

  it("copies a view's whole buffer once, keeping each view's kind, offset and length", () => {
    const { a } = endpointPair(5_000, MOVING);
    const buffer = filled(8192);
    const bytes = Buffer.from(buffer, 16, 100);
    const words = new Uint32Array(buffer, 64, 10);
    const view = new DataView(buffer, 128, 32);
    const enc = encodeArgs(a, [{ bytes, words, view, buffer }], 2);
    const out = (enc.value as [Record<string, ArrayBufferView & { length?: number }>])[0]!;
    const copy = out.buffer as unknown as ArrayBuffer;
    expect(enc.transfer, 'one copy for the four').to.deep.equal([copy]);
    expect(copy.byteLength).to.equal(8192);
    for (const [name, original] of Object.entries({ bytes, words, view })) {
      expect(out[name]!.buffer, name).to.equal(copy);
      expect(out[name]!.byteOffset, name).to.equal(original.byteOffset);
      expect(out[name]!.byteLength, name).to.equal(original.byteLength);
    }
    expect(Object.getPrototypeOf(out.bytes), 'a Buffer arrives as a Uint8Array, as a clone of it would').to.equal(Uint8Array.prototype);
    expect(out.words).to.be.instanceOf(Uint32Array);
    expect(out.view).to.be.instanceOf(DataView);
  });

  it('leaves shared, resizable and caller-moved buffers to the clone', () => {
    const { a } = endpointPair(5_000, MOVING);
    const shared = new SharedArrayBuffer(4096);
    const resizable = new ArrayBuffer(4096, { maxByteLength: 8192 });
    const moved = new ArrayBuffer(4096);
    const enc = encodeArgs(a, [shared, resizable, transfer({ moved }, [moved])], 2);
    const [s, r, m] = enc.value as [unknown, unknown, { moved: unknown }];
    expect(s).to.equal(shared);
    expect(r).to.equal(resizable);
    expect(m.moved).to.equal(moved);
    expect(enc.transfer).to.deep.equal([moved]);
  });

  it('sends no copy when the buffer may also travel where the walk does not look, or is moved by the caller later in the value', () => {
    const { a } = endpointPair(5_000, MOVING);
    const buffer = filled(4096);
    for (const args of [
      [buffer, new Map([[1, buffer]])],
      [buffer, transfer({}, [buffer])],
      (() => {
        const shared = { buffer };
        return [shared, shared];
      })(),
    ]) {
      const enc = encodeArgs(a, args, 2);
      expect(enc.value, 'sent as it is').to.equal(args);
      expect((enc.transfer ?? []).filter((x) => x !== buffer), 'no copy moved').to.deep.equal([]);
    }
  });

  it('delivers copies the receiver can use, and the caller keeps its own (through the in-memory link)', async () => {
    const pair = endpointPair(5_000, MOVING);
    let received: unknown;
    pair.b.control = { keep: (v: unknown) => ((received = v), (v as { data: Uint8Array }).data.reduce((s, x) => s + x, 0)) };
    const data = new Uint8Array(filled(2048, 3));
    const sum = data.reduce((s, x) => s + x, 0);
    expect(await pair.a.call(2, 0, 'keep', [{ data }])).to.equal(sum);
    expect(data.byteLength, 'the caller still has its buffer').to.equal(2048);
    expect((received as { data: Uint8Array }).data.buffer).to.not.equal(data.buffer);
    expect(pair.warnings).to.deep.equal([]);
  });
});
