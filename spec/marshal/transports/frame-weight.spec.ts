import { serialize } from 'node:v8';
import { expect } from 'chai';
import { builtBytes, MAX_BUILT_BYTES, type FrameRefusal } from '../../../marshal/transports/frame-weight.js';
import { emptyObjectsFrame, sparseKeysFrame, varint } from '../../fixtures/heavy-frames.js';

/** Every kind of value structured clone carries, as v8.serialize writes it on this Node line. */
function everyKind(): [string, unknown][] {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const coded = Object.assign(new Error('with a code'), { code: 'E_CODE' });
  return [
    ['small integer', 1], ['negative integer', -5], ['large integer', 2 ** 40], ['double', 1.5], ['NaN', NaN],
    ['one-byte string', 'abc'], ['two-byte string', 'é€'], ['astral string', '𝄞x'], ['empty string', ''],
    ['true', true], ['null', null], ['undefined', undefined], ['bigint', 10n], ['negative bigint', -(2n ** 100n)],
    ['dense array', [1, 2, 3]], ['sparse array', [1, , 3]], ['array with a property', Object.assign([1], { p: 2 })],
    ['nested object', { a: 1, b: { c: [1, 'x'] } }], ['null-prototype object', Object.assign(Object.create(null), { x: 1 })],
    ['numeric keys', { 1: 'a', 2.5: 'b', [-1]: 'c' }], ['cycle and shared reference', [cyclic, cyclic]],
    ['Map', new Map<unknown, unknown>([[1, { a: 2 }], ['k', [3]]])], ['Set', new Set([1, 'a', {}])], ['Date', new Date(0)],
    ['RegExp', /a+/gi], ['Error with a cause', new Error('m', { cause: new TypeError('t') })], ['RangeError', new RangeError('r')],
    ['Error with a code', coded], ['AggregateError', new AggregateError([new Error('a')], 'agg')],
    ['Uint8Array', new Uint8Array([1, 2])], ['Buffer', Buffer.from('abc')], ['DataView', new DataView(new ArrayBuffer(4))],
    ['ArrayBuffer', new ArrayBuffer(8)], ['Float64Array', new Float64Array(3)], ['BigInt64Array', new BigInt64Array(2)],
    ['view of part of a buffer', new Uint16Array(new ArrayBuffer(8), 2, 2)], ['boxed number', Object(1)], ['boxed string', Object('s')],
    ['boxed boolean', Object(true)], ['boxed bigint', Object(5n)], ['an IPC message', ['apartment:batch', 3, 'x'.repeat(100)]],
    ['records', Array.from({ length: 1_000 }, (_, i) => ({ i, s: `v${i}` }))],
  ];
}

describe('marshal/transports/frame-weight: what a frame builds is weighed before it is built', () => {
  it('reads every kind of value structured clone carries, and weighs each at least its own bytes', () => {
    for (const [what, value] of everyKind()) {
      const bytes = serialize(value);
      const built = builtBytes(bytes);
      expect(built, `${what}: ${JSON.stringify(built)} (${Buffer.from(bytes).toString('hex').slice(0, 80)})`).to.be.a('number');
      expect(built as number, what).to.be.at.least(bytes.byteLength - 16);
    }
  });

  it('weighs a frame of tiny objects at many times its bytes, and refuses it past the budget', () => {
    const frame = emptyObjectsFrame(100_000);
    const built = builtBytes(frame) as number;
    expect(built).to.be.at.least(60 * frame.byteLength / 3 * 0.9);
    const refused = builtBytes(frame, 1_000_000) as FrameRefusal;
    expect(refused.tooLarge).to.equal(true);
    expect(refused.why).to.equal('it would build more than 1000000 bytes of values once deserialized');
    expect(MAX_BUILT_BYTES).to.equal(256 * 2 ** 20);
  });

  it('weighs a view at what the receiver builds for it (a buffer of its own and the view), not its bytes', () => {
    const views = Array.from({ length: 10_000 }, () => new Uint8Array(1));
    const frame = serialize(views);
    // Each view is a few bytes of frame, and about 450 bytes of memory once it owns a buffer.
    expect(builtBytes(frame) as number).to.be.at.least(10_000 * 450);
  });

  it('weighs the elements V8 preallocates for a sparse array\'s length, which its frame does not hold', () => {
    const sparse = (length: number): number[] => [0x61, ...varint(length), 0x40, 0, ...varint(length)];
    // Thirteen bytes that V8 builds into an array of 30 million preallocated elements (240 MB).
    expect(builtBytes(Uint8Array.from([0xff, 15, ...sparse(30_000_000)]))).to.be.at.least(240_000_000);
    const six = Uint8Array.from([0xff, 15, 0x41, 6, ...Array.from({ length: 6 }, () => sparse(30_000_000)).flat(), 0x24, 0, 6]);
    expect((builtBytes(six) as FrameRefusal).tooLarge, 'six of them').to.equal(true);
    // Past 2^25 V8 makes a dictionary, which holds only what the frame sets.
    expect(builtBytes(Uint8Array.from([0xff, 15, ...sparse(2 ** 32 - 1)]))).to.be.below(1_000);
  });

  it('weighs the properties of an object with more than V8 keeps fast at its hash table', () => {
    // A million sparse integer keys: 7 MB of frame, which V8 built into 50 MB of heap.
    expect(builtBytes(sparseKeysFrame(1_000_000, 1_000)) as number).to.be.at.least(50_000_000);
    // 55 MB of frame, under the frame bound, that V8 built into 400 MB where the walk said 128 MB.
    expect((builtBytes(sparseKeysFrame(8_000_000, 250)) as FrameRefusal).tooLarge).to.equal(true);
    // An object with a few properties stays weighed as it was.
    expect(builtBytes(serialize({ a: 1, b: 'x' })) as number).to.be.below(200);
  });

  it('refuses bytes that are not one value it can read, saying why', () => {
    const reason = (bytes: number[]): string => (builtBytes(Uint8Array.from(bytes)) as FrameRefusal).why;
    expect(reason([0xde, 0xad])).to.equal('it does not start with a serializer version');
    expect(reason([0xff, 15])).to.equal('it ends inside a value');
    expect(reason([0xff, 15, 0x49, 2, 0x49])).to.equal('1 bytes follow its value');
    expect(reason([0xff, 15, 0x22, 9, 0x61])).to.equal('it claims 9 bytes where 1 are left');
    expect(reason([0xff, 15, 0x41, 200, 1])).to.match(/^an array claims 200 elements where \d+ bytes are left$/);
    expect(reason([0xff, 15, 0x75, 0])).to.equal('it holds tag 0x75 at byte 2, which a structured clone of plain values does not write');
    expect(reason([0xff, 15, 0x72, 0x21])).to.equal('an error holds sub-tag 0x21');
    // V8 reads a view's fields differently by version, so a view tag (Node writes views as host
    // objects) could hide what follows from the walk: refused.
    expect(reason([0xff, 15, 0x41, 2, 0x42, 0, 0x56, 0xe2, 0, 0, 0, 0x5c])).to.equal('it holds tag 0x56 at byte 6, which a structured clone of plain values does not write');
    const own = serialize(null)[1]!;
    expect(reason([0xff, own - 2, 0x30])).to.equal(`it is of serializer version ${own - 2}, where this process reads ${own}`);
    let deep: unknown[] = [];
    for (let i = 0; i < 3_000; i++) deep = [deep];
    expect((builtBytes(serialize(deep)) as FrameRefusal).why).to.equal('it nests deeper than 2048 levels');
  });
});
