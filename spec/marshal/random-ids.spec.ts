import { expect } from 'chai';
import { randomId, startEntropy, useStartEntropy } from '../../marshal/random-ids.js';

describe('marshal/random-ids: unguessable ids for grants and marshal tokens', () => {
  it('makes 32 hex digits, none repeated over many ids (past several refills of its pool)', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const id = randomId();
      expect(id).to.match(/^[0-9a-f]{32}$/);
      ids.add(id);
    }
    expect(ids.size).to.equal(2_000);
  });

  it("draws a worker's first ids from the bytes it was started with, wiping each id's bytes as it goes, then from node:crypto", () => {
    const bytes = new Uint8Array(40).map((_, i) => i + 1);
    const given = Buffer.from(bytes);
    useStartEntropy(bytes);
    expect(randomId()).to.equal(given.toString('hex', 0, 16));
    expect(randomId()).to.equal(given.toString('hex', 16, 32));
    expect([...bytes.subarray(0, 32)].every((b) => b === 0), 'the bytes of drawn ids are wiped').to.equal(true);
    // The 8 bytes left over are not enough for an id: the next comes from node:crypto.
    const next = randomId();
    expect(next).to.match(/^[0-9a-f]{32}$/);
    expect(next).to.not.equal(Buffer.alloc(16).toString('hex'));
  });

  it('ignores start-up bytes that are not bytes, or too few for one id', () => {
    for (const bytes of [undefined, null, 'a'.repeat(64), [1, 2, 3], new Uint8Array(15), new ArrayBuffer(64)]) {
      useStartEntropy(bytes);
      const id = randomId();
      expect(id, String(bytes)).to.match(/^[0-9a-f]{32}$/);
      expect(id).to.not.equal('0'.repeat(32));
    }
  });

  it('makes start-up bytes for 64 ids', () => {
    const bytes = startEntropy();
    expect(bytes.byteLength).to.equal(64 * 16);
    expect(Buffer.from(bytes).equals(Buffer.from(startEntropy())), 'two calls give different bytes').to.equal(false);
  });
});
