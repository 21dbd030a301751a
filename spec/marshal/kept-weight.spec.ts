import { expect } from 'chai';
import { keptBytes } from '../../marshal/kept-weight.js';

const MiB = 2 ** 20;

describe('marshal/kept-weight: what a value already built holds on the heap, from above', () => {
  it('weighs strings each place they appear, two bytes a character when one needs two, and an object once however often it is held', () => {
    const s = 'x'.repeat(1_000);
    expect(keptBytes([s, s], Infinity)).to.be.at.least(2_000);
    expect(keptBytes('ж'.repeat(1_000), Infinity)).to.be.at.least(2_000);
    const shared = { s };
    const once = keptBytes([shared], Infinity);
    expect(keptBytes([shared, shared, shared], Infinity) - once, 'two more slots, not two more copies').to.be.below(100);
    const cyclic: unknown[] = [s];
    cyclic.push(cyclic);
    expect(keptBytes(cyclic, Infinity), 'a cycle ends').to.be.within(1_000, 2_000);
  });

  it('weighs binary data and shared memory by their whole buffers, a view by the buffer it keeps alive', () => {
    expect(keptBytes(new Uint8Array(MiB), Infinity)).to.be.at.least(MiB);
    expect(keptBytes(new Uint8Array(new ArrayBuffer(MiB), 0, 1), Infinity)).to.be.at.least(MiB);
    expect(keptBytes({ memory: new SharedArrayBuffer(MiB) }, Infinity)).to.be.at.least(MiB);
  });

  it('looks inside Maps, Sets, errors, boxed strings, and properties an array holds beside its elements', () => {
    const s = 'y'.repeat(10_000);
    const array: unknown[] & { extra?: string } = [1];
    array.extra = s;
    for (const value of [new Map([[s, 1]]), new Map([[1, s]]), new Set([s]), new Error(s), new String(s), array, { [s]: 1 }]) {
      expect(keptBytes(value, Infinity), String(value).slice(0, 20)).to.be.at.least(10_000);
    }
  });

  it('weighs a reference (a function or a proxy) by its handle, without entering it or running a trap', () => {
    const fn = Object.assign(() => 0, { big: 'z'.repeat(MiB) });
    const trapped = new Proxy({}, { ownKeys: () => { throw new Error('trap ran'); }, get: () => { throw new Error('trap ran'); } });
    expect(keptBytes({ fn, trapped }, Infinity)).to.be.below(1_000);
  });

  it('stops once past its budget, and weighs a sparse array by its length without listing it', () => {
    const many = Array.from({ length: 100_000 }, (_, i) => ({ i: `item ${i}` }));
    const weight = keptBytes(many, 10_000);
    expect(weight).to.be.above(10_000);
    const sparse: unknown[] = [];
    sparse.length = 2 ** 32 - 1;
    expect(keptBytes(sparse, MiB)).to.be.above(MiB);
  });
});
