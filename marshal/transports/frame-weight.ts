// How much heap v8.deserialize would build from one v8.serialize output, estimated from above by
// walking V8's value format without building anything. Why: a frame is bounded in bytes, but not
// what its bytes describe. An empty object takes three bytes of a frame and some 60 of heap, so a
// plugin's 64 MiB frame of 22 million of them took its host 33 s and 1.9 GB to deserialize, and a
// host with a 1 GB heap limit died of it. The pipe channel weighs each frame before deserializing
// it, and each message before sending it, so an honest sender is refused what a receiver would
// refuse. The walk knows the tags V8 writes for what structured clone carries (V8's
// value-serializer.cc; Node's serializer writes typed arrays and Buffers as host objects); a tag
// it does not know fails the frame, since its length cannot be known. Pure functions.

import { TOO_LARGE } from '../errors.js';

/** The most heap one frame may build, by this estimate. */
export const MAX_BUILT_BYTES = 256 * 1024 * 1024;

/**
 * The serializer version this process writes, the only one the walk reads: V8 reads some tags
 * differently in older versions, and a frame the walk and V8 read differently could hide its
 * weight from the walk. Both ends of a process link run one Node binary.
 */
let writtenVersion: number | undefined;
/** The version, read at the first frame weighed (node:v8 is not loaded with every apartment). */
const serializerVersion = (): number => (writtenVersion ??= process.getBuiltinModule('node:v8').serialize(null)[1]!);

/**
 * V8 preallocates a sparse array's length as elements up to this length (SetLength), so a
 * 13-byte frame could claim 240 MB; past it the array is a dictionary.
 */
const PREALLOCATED_LENGTH = 2 ** 25;

/** Nesting deeper than this fails the frame (the walk recurses, as the deserializer does). */
const MAX_DEPTH = 2_048;

// Estimated heap cost, bytes: each above what V8 allocates on x64 for the thing built. A value
// already built is weighed at the same costs (kept-weight.ts).
export const OBJECT = 64;
export const PROPERTY = 16;
export const ARRAY = 32;
export const SLOT = 8;
export const STRING = 24;
export const BOXED = 64;
export const NUMBER = 16;
export const COLLECTION_ENTRY = 32;
export const BINARY = 96;
/**
 * A view (a host object): the receiver gives each its own buffer (owned-deserializer.ts), an
 * ArrayBuffer with a backing store of its own and the view on it, measured at ≈ 450 bytes of
 * process memory each for a frame of 2.2 million one-byte views.
 */
export const VIEW = 512;
/**
 * Past this many properties in one object (or array), V8 keeps them in a hash table (dictionary
 * mode), whose entries are three words in a table that grows by doubling: up to nine words each.
 * A frame of one object with eight million sparse integer keys (55 MB) built 400 MB of heap where
 * the walk, at PROPERTY each, said 128 MB; string keys built 1.7 times the walk's weight.
 */
export const FAST_PROPERTIES = 128;
export const DICTIONARY_ENTRY = 72;

/** A frame the walk cannot read or that is over the budget: why, for the fault or error message. */
class Unreadable {
  constructor(readonly why: string, readonly tooLarge = false) {}
}

/** Why a frame was refused: it is over the budget (`tooLarge`), or not a value the walk can read. */
export interface FrameRefusal {
  readonly why: string;
  readonly tooLarge: boolean;
}

const enum Tag {
  Padding = 0x00,
  Version = 0xff,
  VerifyCount = 0x3f, // ?
  Hole = 0x2d, // -
  Undefined = 0x5f, // _
  Null = 0x30, // 0
  True = 0x54, // T
  False = 0x46, // F
  Int32 = 0x49, // I
  Uint32 = 0x55, // U
  Double = 0x4e, // N
  BigInt = 0x5a, // Z
  Utf8String = 0x53, // S
  OneByteString = 0x22, // "
  TwoByteString = 0x63, // c
  Reference = 0x5e, // ^
  BeginObject = 0x6f, // o
  EndObject = 0x7b, // {
  BeginSparseArray = 0x61, // a
  EndSparseArray = 0x40, // @
  BeginDenseArray = 0x41, // A
  EndDenseArray = 0x24, // $
  Date = 0x44, // D
  TrueObject = 0x79, // y
  FalseObject = 0x78, // x
  NumberObject = 0x6e, // n
  BigIntObject = 0x7a, // z
  StringObject = 0x73, // s
  RegExp = 0x52, // R
  BeginMap = 0x3b, // ;
  EndMap = 0x3a, // :
  BeginSet = 0x27, // '
  EndSet = 0x2c, // ,
  ArrayBuffer = 0x42, // B
  HostObject = 0x5c, // \
  Error = 0x72, // r
}

// The sub-tags of an error: its prototype, message, stack, cause, end.
const ERROR_PROTOTYPES = new Set([0x45, 0x52, 0x46, 0x53, 0x54, 0x55]); // E R F S T U
const ERROR_MESSAGE = 0x6d; // m
const ERROR_STACK = 0x73; // s
const ERROR_CAUSE = 0x63; // c
const ERROR_END = 0x2e; // .

/** One walk over one frame. */
class Walk {
  private pos = 0;
  private built = 0;
  private depth = 0;

  constructor(private readonly bytes: Uint8Array, private readonly budget: number) {}

  run(): number {
    if (this.byte() !== Tag.Version) throw new Unreadable('it does not start with a serializer version');
    const version = this.varint();
    if (version !== serializerVersion()) throw new Unreadable(`it is of serializer version ${version}, where this process reads ${serializerVersion()}`);
    this.value();
    if (this.pos !== this.bytes.length) throw new Unreadable(`${this.bytes.length - this.pos} bytes follow its value`);
    return this.built;
  }

  private add(bytes: number): void {
    this.built += bytes;
    if (this.built > this.budget) throw new Unreadable(`it would build more than ${this.budget} bytes of values once deserialized`, true);
  }

  private byte(): number {
    if (this.pos >= this.bytes.length) throw new Unreadable('it ends inside a value');
    return this.bytes[this.pos++]!;
  }

  private peek(): number {
    while (this.pos < this.bytes.length && this.bytes[this.pos] === Tag.Padding) this.pos++;
    if (this.pos >= this.bytes.length) throw new Unreadable('it ends inside a value');
    return this.bytes[this.pos]!;
  }

  private varint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 128;
    }
    throw new Unreadable('a varint runs past ten bytes');
  }

  private skip(n: number): void {
    if (!(n <= this.bytes.length - this.pos)) throw new Unreadable(`it claims ${n} bytes where ${this.bytes.length - this.pos} are left`);
    this.pos += n;
  }

  private value(): void {
    const tag = this.peek();
    this.pos++;
    switch (tag) {
      case Tag.Undefined:
      case Tag.Null:
      case Tag.True:
      case Tag.False:
      case Tag.Hole:
        return;
      case Tag.Int32:
      case Tag.Uint32:
      case Tag.Reference:
        this.varint();
        return;
      case Tag.VerifyCount:
        this.varint();
        return this.value();
      case Tag.Double:
        this.skip(8);
        return this.add(NUMBER);
      case Tag.Date:
      case Tag.NumberObject:
        this.skip(8);
        return this.add(BOXED);
      case Tag.TrueObject:
      case Tag.FalseObject:
        return this.add(BOXED);
      case Tag.BigInt:
      case Tag.BigIntObject:
        return this.bigint();
      case Tag.Utf8String:
      case Tag.OneByteString:
      case Tag.TwoByteString: {
        const n = this.varint();
        this.skip(n);
        // A UTF-8 byte can become a two-byte character: twice the bytes, from above.
        return this.add(STRING + (tag === Tag.Utf8String ? 2 * n : n));
      }
      case Tag.StringObject:
        this.add(BOXED);
        this.enter();
        this.value();
        return this.leave();
      case Tag.RegExp:
        this.add(BOXED);
        this.value();
        this.varint();
        return;
      case Tag.BeginObject:
        this.add(OBJECT);
        this.enter();
        this.properties(Tag.EndObject, 1, 0);
        return this.leave();
      case Tag.BeginSparseArray: {
        const length = this.varint();
        this.add(ARRAY + (length <= PREALLOCATED_LENGTH ? SLOT * length : 0));
        this.enter();
        this.properties(Tag.EndSparseArray, 2, 0);
        return this.leave();
      }
      case Tag.BeginDenseArray: {
        const length = this.varint();
        // As V8 does: every element takes at least a byte, so a longer length is a lie.
        if (length > this.bytes.length - this.pos) throw new Unreadable(`an array claims ${length} elements where ${this.bytes.length - this.pos} bytes are left`);
        this.add(ARRAY + SLOT * length);
        this.enter();
        this.properties(Tag.EndDenseArray, 2, length);
        return this.leave();
      }
      case Tag.BeginMap:
      case Tag.BeginSet:
        this.add(BOXED);
        this.enter();
        this.entries(tag === Tag.BeginMap ? Tag.EndMap : Tag.EndSet);
        return this.leave();
      // Not followed by a view (tag V): Node's serializer writes views as host objects, and V8
      // reads a view's fields in ways that differ by version, so V is refused like any unknown tag.
      case Tag.ArrayBuffer: {
        const n = this.varint();
        this.skip(n);
        return this.add(BINARY + n);
      }
      case Tag.HostObject: {
        this.varint();
        const n = this.varint();
        this.skip(n);
        return this.add(VIEW + n);
      }
      case Tag.Error:
        this.add(BOXED);
        this.enter();
        this.error();
        return this.leave();
      default:
        throw new Unreadable(`it holds tag 0x${tag.toString(16)} at byte ${this.pos - 1}, which a structured clone of plain values does not write`);
    }
  }

  // One container deeper / back out (not a wrapper taking a closure: that was a frame and an
  // allocation more per level).
  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new Unreadable(`it nests deeper than ${MAX_DEPTH} levels`);
  }

  private leave(): void {
    this.depth--;
  }

  /** Elements (dense arrays: `elements` of them) then key–value pairs up to `end`, which carries `counts` varints. */
  private properties(end: Tag, counts: number, elements: number): void {
    for (let i = 0; i < elements; i++) this.value();
    let n = 0;
    while (this.peek() !== end) {
      this.value();
      this.value();
      this.add(++n > FAST_PROPERTIES ? DICTIONARY_ENTRY : PROPERTY);
    }
    this.pos++;
    for (let i = 0; i < counts; i++) this.varint();
  }

  private entries(end: Tag): void {
    while (this.peek() !== end) {
      this.value();
      this.add(COLLECTION_ENTRY);
    }
    this.pos++;
    this.varint();
  }

  private bigint(): void {
    const bitfield = this.varint();
    const n = Math.floor(bitfield / 2);
    this.skip(n);
    this.add(STRING + n);
  }

  private error(): void {
    for (;;) {
      const sub = this.byte();
      if (sub === ERROR_END) return;
      if (ERROR_PROTOTYPES.has(sub)) continue;
      if (sub === ERROR_MESSAGE || sub === ERROR_STACK || sub === ERROR_CAUSE) this.value();
      else throw new Unreadable(`an error holds sub-tag 0x${sub.toString(16)}`);
    }
  }
}

/**
 * The heap `bytes` (one v8.serialize output) would build when deserialized, estimated from above;
 * a refusal instead when the bytes are not one value the walk can read, or would build more than
 * `budget` bytes.
 */
export function builtBytes(bytes: Uint8Array, budget = MAX_BUILT_BYTES): number | FrameRefusal {
  try {
    return new Walk(bytes, budget).run();
  } catch (err) {
    if (err instanceof Unreadable) return { why: err.why, tooLarge: err.tooLarge };
    // The walk recursed past this thread's stack: nesting that deep is refused as well.
    if (err instanceof RangeError) return { why: 'it nests too deep to read', tooLarge: false };
    throw err;
  }
}

/**
 * Throw the DataCloneError for a serialized message the other side of `link` (its kind, for the
 * message: "a process link") would refuse, and cut this side off for: one it cannot read, or one
 * that would build more than the budget there. The sender's half of the receiver's check.
 */
export function checkWeight(body: Uint8Array, link: string): void {
  const built = builtBytes(body);
  if (typeof built === 'number') return;
  throw new DOMException(
    built.tooLarge
      ? `${TOO_LARGE} a message of ${body.byteLength} bytes is more than ${link} rebuilds (${built.why}); pass fewer, larger values (binary data, long strings), or a stream`
      : `a message ${link} cannot check (${built.why})`,
    'DataCloneError',
  );
}
