import { expect } from 'chai';
import { InvalidArgumentError } from '../../marshal/errors.js';
import {
  CheckReport, anyOverload, arg, arity, at, atEntry, byRefResult, describeValue, discardResult, fail, readEntry, refuse, toBuffer, writeEntry,
} from '../../marshal/argument-checks.js';
import { isByRefObject } from '../../marshal/by-ref.js';
import type { InterfaceManifest } from '../../marshal/interface-manifest.js';
import { thrown } from '../fixtures/thrown.js';

const manifest: InterfaceManifest = {
  id: 'spec#Api',
  name: 'Api',
  version: '0',
  members: [
    { name: 'open', kind: 'method', params: [{ name: 'doc', type: 'Doc' }, { name: 'rest', type: 'number', rest: true }], hash: 'a' },
    { name: 'find', kind: 'method', params: [{ name: 'line', type: 'number' }], overloads: [[{ name: 'pattern', type: 'RegExp' }, { name: 'limit', type: 'number', optional: true }]], hash: 'b' },
  ],
};

/** A hand-written check of `{ doc: { version: number } }` in the generated style. */
function checkDoc(a: unknown[], r?: CheckReport): boolean {
  const v = a[0] as { version?: unknown } | undefined;
  if (typeof v !== 'object' || v === null) return fail(r, 'Doc', v) || arg(r, 0);
  if (!(typeof v.version === 'number' || fail(r, 'number', v.version))) return at(r, 'version') || arg(r, 0);
  for (let i = 1; i < a.length; i++) if (!(typeof a[i] === 'number' || fail(r, 'number', a[i]))) return arg(r, i);
  return true;
}

const refusal = (fn: () => unknown): InvalidArgumentError => thrown<InvalidArgumentError>(fn);

describe('marshal/argument-checks: what generated checks report', () => {
  it('describes a received value by its kind or class, without running its getters', () => {
    let ran = false;
    class Doc {}
    const tricky = Object.create(Object.defineProperty({}, 'constructor', { get: () => (ran = true) })) as object;
    expect([null, undefined, 1, 'x', 1n, [], {}, new Doc(), new Uint16Array(1), Object.create(null), () => 1, tricky].map(describeValue))
      .to.deep.equal(['null', 'undefined', 'number', 'string', 'bigint', 'array', 'object', 'Doc', 'Uint16Array', 'object', 'function', 'object']);
    expect(ran).to.equal(false);
  });

  it('builds the message from the failing leaf outwards: member, path, expected, received, parameter', () => {
    const err = refusal(() => refuse(manifest, 0, [{ version: '3' }], checkDoc));
    expect(err).to.be.instanceOf(InvalidArgumentError);
    expect(err.message).to.equal("[bad-argument] Api.open: args[0].version: expected number, got string (parameter 'doc')");
    expect(err.parameter).to.equal('doc');
    const rest = refusal(() => refuse(manifest, 0, [{ version: 1 }, 1, 'two'], checkDoc));
    expect(rest.message).to.contain('args[2]: expected number, got string');
    expect(rest.parameter, 'any trailing argument belongs to the rest parameter').to.equal('rest');
  });

  it('formats path steps: identifiers, odd keys, indexes, Map entries and Set elements', () => {
    const r = new CheckReport();
    fail(r, 'number', 'x');
    fail(r, 'ignored: the innermost failure wins', 1);
    atEntry(r, 'value', 'k', 0);
    at(r, 2);
    at(r, 'odd key');
    at(r, 'items');
    atEntry(r, 'element', {}, 4);
    expect(r.path.join('')).to.equal('.values()[4].items["odd key"][2].get("k")');
    expect([r.expected, r.got]).to.deep.equal(['number', 'string']);
  });

  it('accepts a call that any overload accepts, and explains a refusal with the overload that got furthest', () => {
    const byLine = (a: unknown[], r?: CheckReport): boolean => (a.length === 1 ? typeof a[0] === 'number' || fail(r, 'number', a[0]) || arg(r, 0) : arity(r, 1, 1, a.length));
    const byPattern = (a: unknown[], r?: CheckReport): boolean => {
      if (a.length < 1 || a.length > 2) return arity(r, 1, 2, a.length);
      if (!(a[0] instanceof RegExp || fail(r, 'RegExp', a[0]))) return arg(r, 0);
      return a[1] === undefined || typeof a[1] === 'number' || fail(r, 'number', a[1]) || arg(r, 1);
    };
    const both = (a: unknown[], r?: CheckReport): boolean => anyOverload(a, r, [byLine, byPattern]);
    expect(both([1])).to.equal(true);
    expect(both([/x/, 2])).to.equal(true);
    const err = refusal(() => refuse(manifest, 1, [/x/, 'two'], both));
    expect(err.message).to.contain('args[1]: expected number, got string');
    expect(err.parameter, 'named from the second overload').to.equal('limit');
  });
});

describe('marshal/argument-checks: what generated stubs do besides checking', () => {
  it('reads and writes index-signature entries only as own data, never a method, an accessor or anything inherited', () => {
    class Settings {
      theme = 'dark';
      get secret(): string {
        return 'getter ran';
      }
      reset(): void {}
    }
    const s = new Settings();
    expect(readEntry(s, 'theme')).to.equal('dark');
    for (const key of ['secret', 'reset', 'constructor', '__proto__', 'toString']) expect(readEntry(s, key), key).to.equal(undefined);
    writeEntry(s, 'theme', 'light');
    writeEntry(s, 'fresh', 1);
    expect(s.theme).to.equal('light');
    for (const key of ['secret', 'reset', '__proto__', 'toString']) {
      expect(() => writeEntry(s, key, 'x'), key).to.throw(InvalidArgumentError, 'is not an entry');
    }
    expect(typeof s.reset).to.equal('function');
  });

  it('sends a methods-only result by reference (after awaiting it), and gives back nothing for a `this` result', async () => {
    const sync = { dispose(): void {} };
    expect(byRefResult(sync)).to.equal(sync);
    expect(isByRefObject(sync, Object.prototype)).to.equal(true);
    const later = { dispose(): void {} };
    expect(await byRefResult(Promise.resolve(later))).to.equal(later);
    expect(isByRefObject(later, Object.prototype)).to.equal(true);
    expect(byRefResult(null)).to.equal(null);
    expect(discardResult({ self: true })).to.equal(undefined);
    expect(await discardResult(Promise.resolve({ self: true }))).to.equal(undefined);
  });

  it('rebuilds a Buffer over the same memory as the Uint8Array it arrived as', () => {
    const bytes = new Uint8Array([104, 105, 33]).subarray(0, 2);
    const buf = toBuffer(bytes);
    expect(Buffer.isBuffer(buf)).to.equal(true);
    expect(buf.toString()).to.equal('hi');
    buf[0] = 72;
    expect(bytes[0], 'no copy').to.equal(72);
    const already = Buffer.from('x');
    expect(toBuffer(already)).to.equal(already);
  });
});
