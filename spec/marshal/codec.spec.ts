import { expect } from 'chai';
import { InvalidArgumentError, MarshalError, TOO_LARGE } from '../../marshal/errors.js';
import { byRef, CUSTOM_MARSHAL, transfer, transfersPending } from '../../marshal/by-ref.js';
import { loneEndpoint as endpoint } from './fixtures/lone-endpoint.js';
import { encodeArgs, encodeValue } from '../../marshal/codec.js';
import { thrown } from '../fixtures/thrown.js';

describe('marshal/codec: encoding values', () => {
  it('passes plain argument lists through without copying', () => {
    const args = [1, 'two', true, null, undefined, 3n];
    const enc = encodeArgs(endpoint(), args, 2);
    expect(enc.value).to.equal(args);
    expect(enc.refs).to.equal(0);
  });

  it('replaces functions and byRef objects with references at their paths, copying only what changed', () => {
    const ep = endpoint();
    const untouched = { a: [1, 2, 3] };
    const arg = { keep: untouched, cb: () => 1, deep: [{ obj: byRef({}) }] };
    const enc = encodeArgs(ep, [arg], 2);
    const out = (enc.value as unknown[])[0] as Record<string, unknown>;
    expect(out).to.not.equal(arg);
    expect(out.keep).to.equal(untouched);
    expect(out.cb).to.equal(null);
    expect(arg.cb).to.be.a('function');
    expect((enc.refs as unknown[][]).map((r) => r[0])).to.deep.equal([[0, 'cb'], [0, 'deep', 0, 'obj']]);
    expect(ep.exports.size).to.equal(2);
  });

  it('finds byRef() marks, transfer() lists and async iterators on plain objects, also after a transfer() that was never sent', () => {
    const ep = endpoint();
    transfer({ neverSent: true }, [new ArrayBuffer(8)]);
    const buffer = new ArrayBuffer(8);
    const moved = transfer({ buffer }, [buffer]);
    const streamed = { async *[Symbol.asyncIterator]() {
      yield 1;
    } };
    const marked = byRef({ plain: true });
    const enc = encodeArgs(ep, [{ moved, streamed, marked }], 2);
    expect(enc.transfer, 'the transfer() list of the value sent').to.deep.equal([buffer]);
    const paths = (enc.refs as unknown[][]).map((r) => r[0]);
    expect(paths, "the stream's producer by reference inside the stream's value, the marked object by reference").to.deep.equal([[0, 'streamed', 'p', 'end'], [0, 'streamed'], [0, 'marked']]);
    expect(encodeArgs(ep, [{ moved }], 2).transfer, 'a list is taken by the send that uses it').to.equal(undefined);
  });

  it('keeps an own __proto__ key as a key when it copies an object around a reference', () => {
    const ep = endpoint();
    const arg = JSON.parse('{"__proto__": {"polluted": true}, "after": 1}') as Record<string, unknown>;
    arg.cb = () => 1;
    const out = (encodeArgs(ep, [arg], 2).value as unknown[])[0] as Record<string, unknown>;
    expect(out).to.not.equal(arg);
    expect(Object.getPrototypeOf(out)).to.equal(Object.prototype);
    expect(Object.keys(out)).to.deep.equal(['__proto__', 'after', 'cb']);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).to.deep.equal({ polluted: true });
    expect((out as { polluted?: unknown }).polluted).to.equal(undefined);
  });

  it('rejects a Promise or a symbol with a MarshalError naming the path, and gives back references already made', () => {
    const ep = endpoint();
    const err = (() => {
      try {
        encodeArgs(ep, [() => 1, { p: Promise.resolve(1) }], 2);
      } catch (e) {
        return e;
      }
    })() as MarshalError;
    expect(err).to.be.instanceOf(MarshalError);
    expect(err.path).to.equal('args[1].p');
    expect(err.message).to.contain('await it');
    expect(ep.exports.size).to.equal(0);
    expect(() => encodeValue(ep, Symbol('s'), 2)).to.throw(MarshalError, /symbol/);
  });

  it('collects transfer lists and survives cycles', () => {
    const buf = new ArrayBuffer(8);
    const holder = transfer({ buf }, [buf]);
    const cyclic: Record<string, unknown> = { n: 1 };
    cyclic.self = cyclic;
    const enc = encodeArgs(endpoint(), [holder, cyclic], 2);
    expect(enc.transfer).to.deep.equal([buf]);
    expect((enc.value as unknown[])[1]).to.equal(cyclic);
  });
});

describe('marshal/codec: a transfer() list whose value was never sent', () => {
  it('stops counting once the value is collected, so the walk skips its lookups again', async () => {
    expect(globalThis.gc, 'specs run with --expose-gc').to.be.a('function');
    (() => transfer({ neverSent: true }, [new ArrayBuffer(8)]))();
    expect(transfersPending()).to.equal(true);
    // Before: the count stayed up for the life of the thread, and every later send looked up every object.
    for (let i = 0; i < 50 && transfersPending(); i++) {
      globalThis.gc!();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(transfersPending()).to.equal(false);
  });
});

describe('marshal/codec: a transfer() list whose value is sent in a later turn', () => {
  it('is found then, and counted out once taken, as one sent in its own turn', async () => {
    for (let i = 0; i < 50 && transfersPending(); i++) {
      globalThis.gc!();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(transfersPending(), 'none pending before').to.equal(false);
    const buffer = new ArrayBuffer(8);
    const later = transfer({ buffer }, [buffer]);
    // Past the turn it was marked in: a value still unsent then is watched for collection.
    await new Promise((r) => setImmediate(r));
    expect(transfersPending()).to.equal(true);
    const enc = encodeArgs(endpoint(), [later], 2);
    expect(enc.transfer).to.deep.equal([buffer]);
    expect(transfersPending(), 'taken by the send').to.equal(false);
  });
});

describe('marshal/codec: a value sent and marked again in one turn, then never sent', () => {
  it('is counted out once when collected, so a later transfer() list is still taken', async () => {
    const settle = async (): Promise<void> => {
      for (let i = 0; i < 50 && transfersPending(); i++) {
        globalThis.gc!();
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await settle();
    expect(transfersPending(), 'none pending before').to.equal(false);
    (() => {
      const first = new ArrayBuffer(8);
      const holder = transfer({ first }, [first]);
      expect(encodeArgs(endpoint(), [holder], 2).transfer).to.deep.equal([first]);
      // Reused in the same turn (a holder object refilled per message), then dropped unsent.
      transfer(holder, [new ArrayBuffer(8)]);
    })();
    await new Promise((r) => setImmediate(r));
    await settle();
    expect(transfersPending(), 'the dropped value is counted out').to.equal(false);
    const buffer = new ArrayBuffer(8);
    const enc = encodeArgs(endpoint(), [transfer({ buffer }, [buffer])], 2);
    // Before: the dropped value was registered twice and counted out twice, and the count below zero
    // made the codec skip this list: the buffer was copied, not moved.
    expect(enc.transfer).to.deep.equal([buffer]);
  });
});

describe('marshal/codec: byRef() of what is not an object', () => {
  it('throws InvalidArgumentError [byref], where a WeakSet threw a TypeError', () => {
    for (const value of [5, 'text', null, undefined, Symbol.for('codec-spec')]) {
      expect(() => byRef(value as never), String(value)).to.throw(InvalidArgumentError, /^\[byref\]/);
    }
    const f = (): number => 1;
    expect(byRef(f)).to.equal(f);
  });
});

describe('marshal/codec: a transfer() of a value that cannot be held weakly', () => {
  it('throws and is not counted', async () => {
    for (let i = 0; i < 50 && transfersPending(); i++) {
      globalThis.gc!();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(transfersPending(), 'none pending before').to.equal(false);
    // A registered symbol or a number, as plain JavaScript may pass one: no WeakMap or FinalizationRegistry takes it.
    for (const value of [Symbol.for('codec-spec'), 7]) {
      expect(() => transfer(value as never, [new ArrayBuffer(8)])).to.throw(InvalidArgumentError, '[transfer]');
    }
    // Before: it was counted before the throw, and stayed counted for the life of the thread.
    expect(transfersPending()).to.equal(false);
  });
});

describe('marshal/codec: small containers walked without remembering them', () => {
  const text = 'x'.repeat(2 ** 20);

  it('counts the string of a small object held in 600 places once, after the first count went over, and makes each reference once', () => {
    const ep = endpoint();
    const shared = { text };
    const args = [new Array(600).fill(shared), () => 1];
    const enc = encodeArgs(ep, args, 2);
    expect((enc.value as unknown[])[0], 'nothing was replaced in the array').to.equal(args[0]);
    expect((enc.refs as unknown[][]).map((r) => r[0]), 'the function, once').to.deep.equal([[1]]);
    expect(ep.exports.size, 'the first walk\'s reference was given back').to.equal(1);
  });

  it('refuses 600 small objects each holding the string, with the path a walk that counts each once reaches', () => {
    const ep = endpoint();
    const many = Array.from({ length: 600 }, () => ({ text }));
    const err = (() => {
      try {
        encodeArgs(ep, [() => 1, many], 2);
      } catch (e) {
        return e;
      }
    })() as MarshalError;
    expect(err, String(err)).to.be.instanceOf(MarshalError);
    expect(err.message.startsWith(TOO_LARGE)).to.equal(true);
    expect(err.path).to.equal('args[1][512].text');
    expect(ep.exports.size, 'references of both walks given back').to.equal(0);
  });

  it('replaces a function in a small object at every place the object is held', () => {
    const ep = endpoint();
    const leaf = { cb: () => 1, n: 1 };
    const enc = encodeArgs(ep, [[leaf, leaf]], 2);
    const [first, second] = (enc.value as unknown[][])[0] as Array<Record<string, unknown>>;
    expect(first!.cb).to.equal(null);
    expect(second!.cb).to.equal(null);
    expect(first!.n).to.equal(1);
    expect((enc.refs as unknown[][]).map((r) => r[0])).to.deep.equal([[0, 0, 'cb'], [0, 1, 'cb']]);
  });

  it('ends on cycles of small objects, and walks a value of shared small objects forty levels deep in linear time', () => {
    const a: Record<string, unknown> = { n: 1 };
    const b: Record<string, unknown> = { a };
    a.b = b;
    const enc = encodeArgs(endpoint(), [a, [b, [a]]], 2);
    expect((enc.value as unknown[])[0]).to.equal(a);
    // A small object whose first key leads to a container met before, then back into the cycle.
    const seenBefore = new Array<number>(17).fill(0);
    const c: Record<string, unknown> = { x: seenBefore };
    const d: Record<string, unknown> = { x: seenBefore, c };
    c.d = d;
    expect((encodeArgs(endpoint(), [seenBefore, c], 2).value as unknown[])[1]).to.equal(c);
    // Each level holds the one below twice: 2^40 paths, 40 objects.
    let level: Record<string, unknown> = { leaf: 'z' };
    for (let i = 0; i < 40; i++) level = { left: level, right: level };
    expect(encodeValue(endpoint(), level, 2).value).to.equal(level);
  });
});

describe('marshal/codec: small containers walked without remembering them, in cycles and repeats', () => {
  const text = 'x'.repeat(2 ** 20);

  it('walks a ring of a thousand small objects no deeper than one with every object remembered', () => {
    const nodes: Array<Record<string, unknown>> = Array.from({ length: 1000 }, (_, i) => ({ i }));
    nodes.forEach((n, i) => { n.next = nodes[(i + 1) % nodes.length]; });
    expect((encodeArgs(endpoint(), [nodes[0]], 2).value as unknown[])[0]).to.equal(nodes[0]);
  });

  it('refuses a value whose child points back at it with the path of the place the strings are first met', () => {
    const parent: Record<string, unknown> = { kids: [], big: new Array(600).fill(text) };
    (parent.kids as unknown[]).push({ parent });
    const err = (() => {
      try {
        encodeArgs(endpoint(), [parent], 2);
      } catch (e) {
        return e;
      }
    })() as MarshalError;
    expect(err, String(err)).to.be.instanceOf(MarshalError);
    expect(err.path).to.equal('args[0].big[512]');
  });

  it('does not read the keys of a large object again at each of the many places it is held', () => {
    let listed = 0;
    const target = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]));
    const large = new Proxy(target, { ownKeys: (t) => { const keys = Reflect.ownKeys(t); listed += keys.length; return keys; } });
    encodeArgs(endpoint(), [new Array(5000).fill(large)], 2);
    expect(listed, 'keys listed').to.be.below(2 ** 17);
  });

  it('calls CUSTOM_MARSHAL once when the count of the value is redone', () => {
    let calls = 0;
    const custom = { [CUSTOM_MARSHAL]: () => { calls++; return { key: 'once', payload: calls }; } };
    const enc = encodeArgs(endpoint(), [custom, new Array(600).fill({ text })], 2);
    expect(calls).to.equal(1);
    expect((enc.value as unknown[])[0]).to.deep.equal({ k: 'once', p: 1 });
  });
});

describe('marshal/codec: a flat array inside a small container, counted where it stands', () => {
  const text = 'x'.repeat(2 ** 20);
  const fails = (run: () => unknown): MarshalError => thrown<MarshalError>(run);

  it('counts one flat array held by 600 records once, and 600 such arrays each time', () => {
    const ep = endpoint();
    const shared = [text];
    const records = Array.from({ length: 600 }, (_, i) => ({ i, tags: shared }));
    expect((encodeArgs(ep, [records], 2).value as unknown[])[0], 'one array, copied once').to.equal(records);
    const apart = Array.from({ length: 600 }, (_, i) => ({ i, tags: [text] }));
    const err = fails(() => encodeArgs(ep, [apart], 2));
    expect(err.message.startsWith(TOO_LARGE)).to.equal(true);
    expect(err.path).to.equal('args[0][512].tags[0]');
  });

  it('walks an array holding a symbol, one that marshals itself, one with a transfer() list and a Proxy as any other array', () => {
    const ep = endpoint();
    expect(fails(() => encodeArgs(ep, [{ n: 1, tags: ['a', Symbol('s')] }], 2)).path).to.equal('args[0].tags[1]');
    const custom = Object.assign(['a'], { [CUSTOM_MARSHAL]: () => ({ key: 'k', payload: 1 }) });
    const enc = encodeArgs(ep, [{ n: 1, custom }], 2);
    expect((enc.refs as unknown[][]).map((r) => r[0]), 'marshaled by value').to.deep.equal([[0, 'custom']]);
    const buffer = new ArrayBuffer(8);
    expect(encodeArgs(ep, [{ n: 1, moved: transfer([1, 2], [buffer]) }], 2).transfer).to.deep.equal([buffer]);
    let reads = 0;
    const proxied = new Proxy(['a'], { get: (t, k, r) => {
      if (k === '0') reads++;
      return Reflect.get(t, k, r) as unknown;
    } });
    encodeArgs(ep, [{ n: 1, proxied }], 2);
    expect(reads, 'its items read once, as the walk reads them').to.equal(1);
  });
});
