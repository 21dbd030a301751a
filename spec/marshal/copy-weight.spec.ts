import vm from 'node:vm';
import { expect } from 'chai';
import { copiedChars } from '../../marshal/copy-weight.js';

describe('marshal/copy-weight: strings are counted as a copy would carry them', () => {
  it('counts a string each place it appears, an object once however often it is held, and looks inside Maps, Sets, arrays and plain objects', () => {
    const s = 'abcd';
    expect(copiedChars(s, 100)).to.equal(4);
    expect(copiedChars([s, s, s], 100), 'a string repeated is copied each time').to.equal(12);
    const shared = { s };
    expect(copiedChars([shared, shared, shared], 100), 'an object repeated is copied once').to.equal(4);
    const nested = new Map<unknown, unknown>([[s, new Set([s, [s, { k: s }]])]]);
    expect(copiedChars({ nested, again: nested }, 100)).to.equal(16);
    const cyclic: unknown[] = [s];
    cyclic.push(cyclic);
    expect(copiedChars(cyclic, 100), 'a cycle ends').to.equal(4);
    expect(copiedChars([1, 2n, true, null, new Uint8Array(8), new Date(0)], 100), 'no strings').to.equal(0);
  });

  it('counts inside class instances, objects and collections of another realm, and an error\'s message, as a copy carries them', () => {
    class Box {
      constructor(readonly items: string[]) {}
    }
    expect(copiedChars(new Box(['ab', 'ab']), 100)).to.equal(4);
    const foreign = vm.runInNewContext('({ list: ["abc", "abc"], map: new Map([["k", "vv"]]) })') as object;
    expect(copiedChars(foreign, 100)).to.equal(9);
    expect(copiedChars({ e: new Error('four') }, 100)).to.equal(4);
  });

  it('counts a plain object in a Map or Set once however often it is held there, and runs no trap of a Proxy held there', () => {
    const shared = { s: 'abcd' };
    expect(copiedChars(new Map([[1, shared], [2, shared]]), 100)).to.equal(4);
    expect(copiedChars(new Set([shared, { again: shared, t: 'xy' }]), 100)).to.equal(6);
    const trapped = new Proxy({ s: 'abcd' }, {
      getPrototypeOf: () => {
        throw new Error('getPrototypeOf trap ran');
      },
      ownKeys: () => {
        throw new Error('ownKeys trap ran');
      },
    });
    expect(copiedChars(new Map([['k', trapped]]), 100), 'the copy refuses a Proxy; only the key is counted').to.equal(1);
  });

  it('stops at the first string past the budget, so weighing a huge value does not walk all of it', () => {
    const many = new Array<string>(1_000_000).fill('x');
    expect(copiedChars(many, 1_000), 'a thousand and one').to.equal(1_001);
    expect(copiedChars(new Map([[1, many]]), 10)).to.equal(11);
    expect(copiedChars(new Set(['ab', 'cd', 'ef']), 3)).to.equal(4);
    expect(copiedChars(new Map([['ab', 1], ['cd', 2], ['ef', 3]]), 3), 'a Map stops at its key').to.equal(4);
  });

  it('remembers only the objects a repeat could count twice: a small object of numbers adds nothing wherever it appears', () => {
    const flat = { i: 1, j: null, k: true };
    const worded = { w: 'ab' };
    const wide = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`n${i}`, i]));
    const seen = new Set<object>();
    expect(copiedChars(new Map<unknown, unknown>([[1, flat], [2, flat], [3, worded], [4, worded], [5, wide]]), 100, seen)).to.equal(2);
    expect(seen.has(flat), 'the object of numbers').to.equal(false);
    expect(seen.has(worded), 'the object holding a string').to.equal(true);
    expect(seen.has(wide), 'an object past eight keys').to.equal(true);
  });
});
