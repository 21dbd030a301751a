// A compact binary encoding for the values a Batch usually holds (numbers, strings, booleans,
// null/undefined, bigint, arrays and plain objects), written into a private scratch buffer and
// decoded straight out of shared memory. Measured on Node 20: v8.serialize + v8.deserialize cost
// ~3 µs for a one-call batch, an order of magnitude more than a shared-ring round trip, so the
// ring uses this encoder and sends anything else over the port, where structured clone applies.
//
// The encoder refuses (returns -1) rather than guessing whenever structured clone would behave
// differently: class instances, Date/Map/typed arrays, proxies, a shared or cyclic reference
// (identity must survive), or an encoding larger than the caller's limit.
import * as types from 'node:util/types';
// Loaded for its effect: this module's typed-array code must be optimised with V8's detach checks.
import '../detach-protector.js';
import { ProtocolError } from '../errors.js';
import { MetContainers } from './met-containers.js';

const T_UNDEFINED = 0;
const T_NULL = 1;
const T_FALSE = 2;
const T_TRUE = 3;
const T_UINT8 = 4;
const T_INT32 = 5;
const T_FLOAT64 = 6;
const T_LATIN1 = 7;
const T_UTF16 = 8;
const T_ARRAY = 9;
const T_OBJECT = 10;
const T_BIGINT = 11;
const T_HOLE = 12;

/** Thrown inside the encoder to abandon a value the ring cannot carry exactly; never escapes. */
const REFUSED: unique symbol = Symbol('refused');

/** Strings at most this long are built char by char; longer ones use Buffer's native slicers. */
const SHORT_STRING = 24;

/**
 * Deepest nesting of arrays and objects the ring carries. The encoder refuses deeper values (they
 * go over the port, where structured clone applies), so a deeper record is never honest: the
 * decoder refuses it instead of recursing until its thread's stack overflows.
 */
export const MAX_WIRE_DEPTH = 64;
/** How many items of a long array are encoded before its whole size is projected from them. */
const PROJECT_AFTER = 16;

/** Encodes values into a growable private buffer. One per thread; not re-entrant. */
export class WireEncoder {
  private buf: Buffer = Buffer.allocUnsafeSlow(4096);
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  private pos = 0;
  private limit = 0;
  private depth = 0;
  /**
   * Set when the value nests deeper than MAX_WIRE_DEPTH: every level then returns at once. Not a
   * throw: unwinding 64 levels of this recursion by exception cost ≈ 120 µs, twenty times the
   * encoding it abandons (a 200-level value over shared memory took 3× a raw postMessage).
   */
  private tooDeep = false;
  private readonly met = new MetContainers();

  /** The encoded bytes of the last successful encode (valid until the next call). */
  get bytes(): Buffer {
    return this.buf;
  }

  /** Encode `value`; returns its byte length, or -1 when it needs structured clone or exceeds `limit` bytes. */
  encode(value: unknown, limit: number): number {
    this.pos = 0;
    this.limit = limit;
    this.depth = 0;
    this.tooDeep = false;
    try {
      this.value(value);
      if (this.tooDeep) return -1;
      // ensure() checks the limit only when the buffer grows: a buffer grown under an earlier,
      // larger limit (another transport on this thread) must not let a larger record through.
      return this.pos <= limit ? this.pos : -1;
    } catch (err) {
      if (err === REFUSED) return -1;
      throw err;
    } finally {
      this.met.clear();
    }
  }

  private ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    if (need > this.limit) throw REFUSED;
    const next = Buffer.allocUnsafeSlow(Math.min(Math.max(need, this.buf.length * 2), Math.max(this.limit, need)));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  private tag(t: number): void {
    this.ensure(1);
    this.buf[this.pos++] = t;
  }

  private u32(n: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, n, true);
    this.pos += 4;
  }

  private value(v: unknown): void {
    switch (typeof v) {
      case 'number':
        return this.number(v);
      case 'string':
        return this.string(v);
      case 'boolean':
        return this.tag(v ? T_TRUE : T_FALSE);
      case 'undefined':
        return this.tag(T_UNDEFINED);
      case 'bigint':
        this.tag(T_BIGINT);
        return this.string(v.toString(16));
      case 'object':
        if (v === null) return this.tag(T_NULL);
        return this.object(v);
      default:
        throw REFUSED;
    }
  }

  private number(v: number): void {
    if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
      if (v >= 0 && v < 256) {
        this.ensure(2);
        this.buf[this.pos++] = T_UINT8;
        this.buf[this.pos++] = v;
      } else {
        this.ensure(5);
        this.buf[this.pos++] = T_INT32;
        this.view.setInt32(this.pos, v, true);
        this.pos += 4;
      }
      return;
    }
    this.ensure(9);
    this.buf[this.pos++] = T_FLOAT64;
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  private string(s: string): void {
    const n = s.length;
    this.ensure(5 + n);
    const start = this.pos;
    const buf = this.buf;
    buf[start] = T_LATIN1;
    this.view.setUint32(start + 1, n, true);
    let p = start + 5;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff) {
        this.pos = start;
        return this.utf16(s);
      }
      buf[p++] = c;
    }
    this.pos = p;
  }

  private utf16(s: string): void {
    const n = s.length;
    this.ensure(5 + 2 * n);
    this.buf[this.pos] = T_UTF16;
    this.view.setUint32(this.pos + 1, n, true);
    this.pos += 5;
    this.buf.write(s, this.pos, 2 * n, 'utf16le');
    this.pos += 2 * n;
  }

  private object(o: object): void {
    if (++this.depth > MAX_WIRE_DEPTH) {
      this.tooDeep = true;
      return;
    }
    this.container(o);
    this.depth--;
  }

  private container(o: object): void {
    const proto = Object.getPrototypeOf(o);
    if (proto === Array.prototype) {
      if (types.isProxy(o)) throw REFUSED;
      if (!this.met.meet(o)) throw REFUSED;
      const a = o as unknown[];
      const n = a.length;
      this.tag(T_ARRAY);
      this.u32(n);
      const start = this.pos;
      for (let i = 0; i < n; i++) {
        const item = a[i];
        if (item === undefined && !(i in a)) this.tag(T_HOLE);
        else this.value(item);
        if (this.tooDeep) return;
        // A long array whose first items already say it will not fit goes over the port now,
        // rather than after most of the record was written for nothing (a 2000-object array
        // wrote 64 KiB, a fifth of its structured clone's time, before it was refused).
        if (i === PROJECT_AFTER - 1 && n > 4 * PROJECT_AFTER && start + ((this.pos - start) / PROJECT_AFTER) * n > this.limit) throw REFUSED;
      }
      return;
    }
    if (proto !== Object.prototype && proto !== null) throw REFUSED;
    if (types.isProxy(o)) throw REFUSED;
    if (!this.met.meet(o)) throw REFUSED;
    const keys = Object.keys(o);
    this.tag(T_OBJECT);
    this.u32(keys.length);
    for (const k of keys) {
      this.string(k);
      this.value((o as Record<string, unknown>)[k]);
      if (this.tooDeep) return;
    }
  }
}

/**
 * Decodes values written by WireEncoder out of a (shared) byte array. The bytes come from a peer
 * that may be hostile and may change them while they are read: every read is checked against the
 * record's end, every count against the bytes left, and nesting against MAX_WIRE_DEPTH, so a bad
 * record throws ProtocolError (the transport then faults that link) and allocates no more than
 * the record's size. Not re-entrant.
 */
export class WireDecoder {
  private readonly view: DataView;
  private readonly text: Buffer;
  private pos = 0;
  private end = 0;
  private depth = 0;

  constructor(private readonly u8: Uint8Array) {
    this.view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    this.text = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
  }

  /** Decode the value encoded in `length` bytes at `offset`; ProtocolError when they are not one well-formed value. */
  decode(offset: number, length: number): unknown {
    if (!(offset >= 0 && length > 0 && offset + length <= this.u8.length)) {
      throw malformedRecord(`a record of ${length} bytes at byte ${offset} does not fit the ring`);
    }
    this.pos = offset;
    this.end = offset + length;
    this.depth = 0;
    const v = this.value();
    if (this.pos > this.end) throw malformedRecord('its value runs past the record');
    return v;
  }

  /** Fail unless `n` more bytes lie inside the record. */
  private need(n: number): void {
    if (n > this.end - this.pos) throw malformedRecord(`it is truncated (${n} bytes needed at byte ${this.pos}, the record ends at ${this.end})`);
  }

  private count(): number {
    this.need(4);
    const n = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return n;
  }

  private value(): unknown {
    this.need(1);
    const t = this.u8[this.pos++];
    switch (t) {
      case T_UINT8:
        this.need(1);
        return this.u8[this.pos++];
      case T_INT32: {
        this.need(4);
        const v = this.view.getInt32(this.pos, true);
        this.pos += 4;
        return v;
      }
      case T_FLOAT64: {
        this.need(8);
        const v = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case T_LATIN1:
      case T_UTF16:
        return this.stringBody(t);
      case T_ARRAY:
        this.enter();
        return this.leave(this.array());
      case T_OBJECT:
        this.enter();
        return this.leave(this.object());
      case T_UNDEFINED:
        return undefined;
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_BIGINT: {
        const hex = this.string();
        if (!/^-?[0-9a-f]+$/.test(hex)) throw malformedRecord('a bigint is not hexadecimal digits');
        return hex.charCodeAt(0) === 45 ? -BigInt('0x' + hex.slice(1)) : BigInt('0x' + hex);
      }
      default:
        throw malformedRecord(`unknown value tag ${t} at byte ${this.pos - 1}`);
    }
  }

  // One container level deeper / back out. Not a wrapper taking a closure: decoding runs for every
  // message, and a closure per array was a third of a call's garbage on the receiving thread.
  private enter(): void {
    if (++this.depth > MAX_WIRE_DEPTH) throw malformedRecord(`it nests deeper than ${MAX_WIRE_DEPTH} levels`);
  }

  private leave<T>(value: T): T {
    this.depth--;
    return value;
  }

  private string(): string {
    this.need(1);
    const t = this.u8[this.pos++]!;
    if (t !== T_LATIN1 && t !== T_UTF16) throw malformedRecord(`a string was expected at byte ${this.pos - 1}, found tag ${t}`);
    return this.stringBody(t);
  }

  private stringBody(t: number): string {
    const n = this.count();
    const start = this.pos;
    if (t === T_UTF16) {
      this.need(2 * n);
      this.pos += 2 * n;
      return this.text.toString('utf16le', start, this.pos);
    }
    this.need(n);
    this.pos += n;
    if (n > SHORT_STRING) return this.text.toString('latin1', start, this.pos);
    const u8 = this.u8;
    let s = '';
    for (let i = start; i < this.pos; i++) s += String.fromCharCode(u8[i]!);
    return s;
  }

  private array(): unknown[] {
    const n = this.count();
    // Every element takes at least one byte: a count beyond the bytes left is a lie.
    this.need(n);
    // Built by push so a hole-free array stays packed; a hole is made by growing the length.
    const a: unknown[] = [];
    for (let i = 0; i < n; i++) {
      this.need(1);
      if (this.u8[this.pos] === T_HOLE) {
        this.pos++;
        a.length = i + 1;
      } else a.push(this.value());
    }
    return a;
  }

  private object(): Record<string, unknown> {
    const n = this.count();
    // Every entry takes at least six bytes (a key's tag and length, a value's tag).
    this.need(n * 6);
    const o: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = this.string();
      const v = this.value();
      // `__proto__` must become an own data property, as structured clone makes it, not a prototype.
      if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
      else o[k] = v;
    }
    return o;
  }
}

function malformedRecord(why: string): ProtocolError {
  return new ProtocolError(`[wire] a malformed record arrived (${why}); the link was faulted — its bytes were overwritten (a shared ring's memory) or the peer runs another version`);
}
