import { expect } from 'chai';
import { WireDecoder, WireEncoder } from '../../../marshal/transports/wire-serializer.js';

/** Encode `value` and decode it again, or -1 when the encoder refused it. */
function roundTrip(encoder: WireEncoder, value: unknown): unknown {
  const length = encoder.encode(value, 64 * 1024);
  if (length < 0) return -1;
  return new WireDecoder(new Uint8Array(encoder.bytes.buffer, encoder.bytes.byteOffset, length)).decode(0, length);
}

describe('marshal/transports/wire-serializer: a container met twice', () => {
  it('is refused among a few containers and among more than the encoder tracks by linear search', () => {
    const encoder = new WireEncoder();
    const shared = [1];
    expect(encoder.encode([shared, [2], shared], 64 * 1024), 'met twice in three containers').to.equal(-1);
    const many = Array.from({ length: 40 }, (_, i) => ({ i }));
    expect(encoder.encode([shared, ...many, shared], 64 * 1024), 'met again after 40 others').to.equal(-1);
    expect(encoder.encode([...many.slice(0, 16), many[3]], 64 * 1024), 'met again as the 17th').to.equal(-1);
  });

  it('is not mistaken for one met in an earlier encode: each encode starts afresh', () => {
    const encoder = new WireEncoder();
    const kept = { kept: true };
    const many = Array.from({ length: 40 }, (_, i) => [i]);
    expect(encoder.encode([kept, ...many], 64 * 1024)).to.be.greaterThan(0);
    expect(roundTrip(encoder, [kept])).to.deep.equal([{ kept: true }]);
    expect(encoder.encode([many[0], kept], 64 * 1024), 'after a refused encode too').to.be.greaterThan(0);
    expect(encoder.encode([kept, kept], 64 * 1024)).to.equal(-1);
    expect(roundTrip(encoder, [[kept], many[1]])).to.deep.equal([[{ kept: true }], [1]]);
  });

  it('is not held by the encoder once its encode returned', async () => {
    expect(globalThis.gc, 'specs run with --expose-gc').to.be.a('function');
    const encoder = new WireEncoder();
    const refs = ((): WeakRef<object>[] => {
      const values = [{ a: 1 }, [2], { b: [3] }];
      expect(encoder.encode(values, 64 * 1024)).to.be.greaterThan(0);
      return values.map((v) => new WeakRef(v));
    })();
    for (let i = 0; i < 5 && refs.some((r) => r.deref() !== undefined); i++) {
      await new Promise((r) => setImmediate(r));
      globalThis.gc!();
    }
    expect(refs.map((r) => r.deref()), 'collected').to.deep.equal([undefined, undefined, undefined]);
  });
});
