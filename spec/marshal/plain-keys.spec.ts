import { expect } from 'chai';
import { loneEndpoint as endpoint } from './fixtures/lone-endpoint.js';
import { encodeArgs } from '../../marshal/codec.js';
import { copiedBefore, enumerableInObjectPrototype, sizeUpTo } from '../../marshal/plain-keys.js';
import { copiedChars } from '../../marshal/copy-weight.js';

/** Run `body` while Object.prototype has an enumerable key, as a careless library leaves it. */
function withPollutedPrototype(body: () => void): void {
  (Object.prototype as Record<string, unknown>).polluted = 'x'.repeat(100);
  try {
    body();
  } finally {
    delete (Object.prototype as Record<string, unknown>).polluted;
  }
}

describe('marshal/plain-keys: a plain object\'s own keys, read with for-in', () => {
  it('counts and copies own keys only, in their order, also while Object.prototype has an enumerable key', () => {
    const obj: Record<string, unknown> = { b: 1, 2: 'two', a: 'x', f: () => 1 };
    expect(enumerableInObjectPrototype()).to.equal(false);
    expect(sizeUpTo(obj, 17, false)).to.equal(4);
    expect(sizeUpTo(obj, 2, false), 'stops at the bound').to.equal(2);
    expect(Object.keys(copiedBefore(obj, 'f', false))).to.deep.equal(['2', 'b', 'a']);
    expect(Object.getPrototypeOf(copiedBefore(Object.assign(Object.create(null), obj), 'a', false))).to.equal(null);
    withPollutedPrototype(() => {
      expect(enumerableInObjectPrototype()).to.equal(true);
      expect(sizeUpTo(obj, 17, true)).to.equal(4);
      expect(Object.keys(copiedBefore(obj, 'f', true))).to.deep.equal(['2', 'b', 'a']);
    });
  });
});

describe('marshal/plain-keys: the codec walk with an enumerable key on Object.prototype', () => {
  it('replaces a function of the object and copies only its own keys, not the inherited one', () => {
    withPollutedPrototype(() => {
      const arg = { a: 'text', cb: () => 1, z: 3 };
      const enc = encodeArgs(endpoint(), [arg], 2);
      const out = (enc.value as unknown[])[0] as Record<string, unknown>;
      expect(Object.keys(out)).to.deep.equal(['a', 'cb', 'z']);
      expect(out.cb).to.equal(null);
      expect((enc.refs as unknown[][]).map((r) => r[0])).to.deep.equal([[0, 'cb']]);
    });
  });

  it('walks a large object held in many places once, its keys read once', () => {
    let listed = 0;
    const target = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]));
    const large = new Proxy(target, { ownKeys: (t) => { const keys = Reflect.ownKeys(t); listed += keys.length; return keys; } });
    encodeArgs(endpoint(), [new Array(5000).fill(large)], 2);
    expect(listed, 'keys listed: sized once and walked once').to.equal(2000);
  });
});

describe('marshal/plain-keys: weighing a Map\'s objects with an enumerable key on Object.prototype', () => {
  it('counts the strings of their own keys only, as a copy carries them', () => {
    const map = new Map<string, unknown>([['a', { s: 'abc' }], ['b', { n: 1 }], ['c', { nested: { t: 'de' } }]]);
    const expected = copiedChars(map, Infinity);
    expect(expected, 'keys a, b, c and the strings abc, de').to.equal(8);
    withPollutedPrototype(() => {
      expect(copiedChars(map, Infinity)).to.equal(expected);
    });
  });
});
