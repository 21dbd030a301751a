import { expect } from 'chai';
import { approximateBytes } from '../../../marshal/transports/value-bytes.js';

describe('marshal/transports/value-bytes: about how much memory a batch holds', () => {
  it('counts the characters of strings, the bytes of each buffer once, and a word for other values', () => {
    expect(approximateBytes('x'.repeat(1_000))).to.equal(1_008);
    const buffer = new ArrayBuffer(10_000);
    const twoViews = approximateBytes([new Uint8Array(buffer, 0, 10), new Uint16Array(buffer)]);
    expect(twoViews, 'one buffer under two views').to.be.within(10_000, 10_100);
    expect(approximateBytes(new Map([['k', new Uint8Array(5_000)]]))).to.be.within(5_000, 5_100);
    expect(approximateBytes({ a: 1, b: [true, null, 'yz'] })).to.be.within(40, 120);
  });

  it('ends on cycles and deep nesting', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(approximateBytes(cycle)).to.be.below(100);
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(approximateBytes(deep)).to.be.above(100_000);
  });
});
