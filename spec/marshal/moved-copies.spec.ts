import { expect } from 'chai';
import { CUSTOM_MARSHAL, transfer } from '../../marshal/by-ref.js';
import { encodeArgs, encodeValue } from '../../marshal/codec.js';
import { MarshalError } from '../../marshal/errors.js';
import type { LinkTraits, Transferable } from '../../marshal/transport.js';
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

  it('sends a copy in the transfer list, leaving the caller its buffer and containers, and lets small buffers through as they are', () => {
    const { a } = endpointPair(5_000, MOVING);
    const big = filled(4096);
    const small = new ArrayBuffer(100);
    const holder = { big, small };
    const args = [holder, 7];
    const enc = encodeArgs(a, args, 2);
    const sent = (enc.value as [{ big: ArrayBuffer; small: ArrayBuffer }])[0];
    expect(enc.value).to.not.equal(args);
    expect(sent).to.not.equal(holder);
    expect(holder.big, "the caller's container is unchanged").to.equal(big);
    expect(sent.big).to.not.equal(big);
    expect(enc.transfer).to.deep.equal([sent.big]);
    expect(new Uint8Array(sent.big)).to.deep.equal(new Uint8Array(big));
    expect(sent.small, 'below the threshold').to.equal(small);
    expect(encodeValue(a, small, 2)).to.deep.equal({ value: small, refs: 0, transfer: undefined });
  });

  it("copies a view's whole buffer once, keeping each view's kind, offset and length as the engine knows them", () => {
    const { a } = endpointPair(5_000, MOVING);
    const buffer = filled(8192);
    class Short extends Uint8Array {
      override get length(): number {
        return 1;
      }
    }
    const bytes = Buffer.from(buffer, 16, 100);
    const words = new Uint32Array(buffer, 64, 10);
    const view = new DataView(buffer, 128, 32);
    const short = new Short(buffer, 256, 1000);
    const enc = encodeArgs(a, [{ bytes, words, view, short, buffer }], 2);
    const out = (enc.value as [Record<string, ArrayBufferView>])[0]!;
    const copy = out.buffer as unknown as ArrayBuffer;
    expect(enc.transfer, 'one copy for all five').to.deep.equal([copy]);
    expect(copy.byteLength).to.equal(8192);
    for (const [name, original] of Object.entries({ bytes, words, view, short })) {
      expect(out[name]!.buffer, name).to.equal(copy);
      expect(out[name]!.byteOffset, name).to.equal(original.byteOffset);
      expect(out[name]!.byteLength, name).to.equal(original.byteLength);
    }
    expect(Object.getPrototypeOf(out.bytes), 'a Buffer arrives as a Uint8Array, as a clone of it would').to.equal(Uint8Array.prototype);
    expect((out.short as Uint8Array).length, "not the subclass's own length").to.equal(1000);
    expect(out.words).to.be.instanceOf(Uint32Array);
    expect(out.view).to.be.instanceOf(DataView);
  });

  it('sends a view met twice as one view, copies beside a Date, and copies into a null-prototype array', () => {
    const { a } = endpointPair(5_000, MOVING);
    const view = new Uint16Array(filled(4096));
    const twice = encodeArgs(a, [view, { again: view }], 2).value as [Uint16Array, { again: Uint16Array }];
    expect(twice[0]).to.not.equal(view);
    expect(twice[1].again, 'one view there too').to.equal(twice[0]);
    const dated = encodeArgs(a, [{ at: new Date(0), data: filled(4096) }], 2);
    expect(dated.transfer, 'a Date carries no buffer').to.have.length(1);
    const bare = Object.setPrototypeOf([filled(4096)], null) as unknown[];
    const enc = encodeArgs(a, [bare], 2);
    expect(enc.transfer).to.have.length(1);
    expect(((enc.value as unknown[][])[0]!)[0]).to.equal(enc.transfer![0]);
  });

  it('leaves shared, resizable and caller-moved buffers to the clone', () => {
    const { a } = endpointPair(5_000, MOVING);
    const shared = new SharedArrayBuffer(4096);
    const resizable = new ArrayBuffer(4096, { maxByteLength: 8192 });
    const moved = new ArrayBuffer(4096);
    const args = [shared, resizable, transfer({ moved }, [moved])];
    const enc = encodeArgs(a, args, 2);
    expect(enc.value).to.equal(args);
    expect(enc.transfer).to.deep.equal([moved]);
  });

  it('makes no copy when something else could carry the buffer: a Map, a container met twice, an array with a named property or a hole, a transfer() of it', () => {
    const { a } = endpointPair(5_000, MOVING);
    const buffer = filled(4096);
    const shared = { buffer };
    const named = Object.assign([0], { same: buffer });
    const holey = [buffer, , 3]; // eslint-disable-line no-sparse-arrays
    const balanced = Object.assign([, 1], { x: buffer }); // eslint-disable-line no-sparse-arrays
    const long = Array.from({ length: 2000 }, (_, i) => i);
    for (const args of [[buffer, new Map([[1, buffer]])], [shared, shared], [buffer, named], [holey], [buffer, balanced], [buffer, long]]) {
      const enc = encodeArgs(a, args, 2);
      expect(enc.value, 'sent as it is').to.equal(args);
      expect(enc.transfer, 'nothing moved').to.equal(undefined);
    }
    const moved = encodeArgs(a, [buffer, transfer({}, [buffer])], 2);
    expect(moved.transfer, "the caller's move, kept").to.deep.equal([buffer]);
    expect((moved.value as unknown[])[0]).to.equal(buffer);
  });

  it('walks once: beside a large buffer and a Map, a value marshals itself once and a reference is exported once', () => {
    const { a } = endpointPair(5_000, MOVING);
    const callback = (): number => 1;
    let marshaled = 0;
    const once = { [CUSTOM_MARSHAL]: () => ({ key: 'once', payload: ++marshaled }) };
    const enc = encodeArgs(a, [filled(4096), new Map(), once, callback], 2);
    expect(enc.transfer, 'no copy beside the Map').to.equal(undefined);
    expect(marshaled, 'marshaled once').to.equal(1);
    expect(a.exports.size).to.equal(1);
    const ref = (enc.refs as unknown[][]).find((r) => (r[0] as unknown[])[0] === 3)!;
    expect(a.exports.get(ref[2] as number)?.object, 'the exported entry is the one sent').to.equal(callback);
  });

  it('runs no getter or trap of the caller more often than the clone did', () => {
    const { a } = endpointPair(5_000, MOVING);
    let reads = 0;
    const getting = {
      get data(): Uint8Array {
        return new Uint8Array(4096).fill(++reads);
      },
    };
    const enc = encodeArgs(a, [getting], 2);
    expect(enc.transfer, 'an accessor on the way: left to the clone').to.equal(undefined);
    expect(reads, 'read by the walk only').to.equal(1);
    const traps: string[] = [];
    const proxied = new Proxy([1, 2, 3], { ownKeys: (t) => (traps.push('ownKeys'), Reflect.ownKeys(t)), getOwnPropertyDescriptor: (t, k) => (traps.push('descriptor'), Reflect.getOwnPropertyDescriptor(t, k)) });
    encodeArgs(a, [proxied, filled(4096)], 2);
    expect(traps, 'no look at a proxy beyond the walk').to.deep.equal([]);
  });

  it("sees what the caller's code did to the value during the walk, and writes into nothing it did not make", () => {
    const { a } = endpointPair(5_000, MOVING);
    const bytes = new Uint8Array(filled(4096));
    // A value that marshals itself adds a second place for the buffer behind the walk.
    const config: Record<string, unknown> = { data: bytes };
    const sneaky = { [CUSTOM_MARSHAL]: () => ((config.cache = bytes), { key: 'sneaky', payload: 1 }) };
    const added = encodeArgs(a, [config, sneaky], 2);
    expect(added.transfer, 'a place the walk never noted: cloned').to.equal(undefined);
    const r = structuredClone(added.value, { transfer: added.transfer as Transferable[] as never }) as [Record<string, unknown>];
    expect(r[0].data).to.equal(r[0].cache);
    // A reference makes the walk copy the first container; an accessor later leaves the value to the clone, untouched.
    const args = [{ f: (): number => 1, a: bytes }, { get b(): Uint8Array { return bytes; } }];
    const mixed = encodeArgs(a, args, 2);
    expect(mixed.transfer).to.equal(undefined);
    expect((mixed.value as [{ a: unknown }])[0].a, "the walk's container holds the caller's view still").to.equal(bytes);
    // An array whose species hands the walk an array the caller keeps: the copy goes elsewhere.
    let kept: unknown[] | undefined;
    class Sub extends Array {
      static override get [Symbol.species](): ArrayConstructor {
        return function (n: number) {
          return (kept = new Array(n));
        } as unknown as ArrayConstructor;
      }
    }
    const sub = Sub.from([bytes, (): number => 2]);
    const enc = encodeArgs(a, [sub], 2);
    expect(enc.transfer).to.have.length(1);
    expect(kept![0], "the caller's array keeps its view").to.equal(bytes);
  });

  it('runs no code of the buffer (a subclass, a proxy) and refuses what the clone refused', () => {
    const { a } = endpointPair(5_000, MOVING);
    let speciesRead = 0;
    class Tagged extends ArrayBuffer {
      constructor(readonly tag: string, bytes: number) {
        if (typeof tag !== 'string') throw new Error('Tagged needs a tag');
        super(bytes);
      }
      static override get [Symbol.species](): ArrayBufferConstructor {
        speciesRead++;
        return ArrayBuffer;
      }
    }
    const enc = encodeArgs(a, [new Tagged('t', 4096)], 2);
    expect(enc.transfer).to.have.length(1);
    expect(speciesRead, 'species not read').to.equal(0);
    expect(() => encodeArgs(a, [new Proxy(new ArrayBuffer(4096), {})], 2)).to.not.throw();
    expect(encodeArgs(a, [new Proxy(new ArrayBuffer(4096), {})], 2).transfer, 'a proxy is no buffer').to.equal(undefined);
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
    const proxied = await pair.a.call(2, 0, 'keep', [new Proxy(new ArrayBuffer(4096), {})]).then(() => undefined, (e: unknown) => e);
    expect(proxied, 'a proxied buffer cannot be cloned, as before').to.be.instanceOf(MarshalError);
    expect(pair.warnings).to.deep.equal([]);
  });
});
