// Large binary data copied to another apartment: this side makes the copy and moves it, instead of
// letting the structured clone copy it twice (once into the message, once out of it). Measured on a
// two-core machine (Node 20): a 64 KiB ArrayBuffer echoed over a port took 250-290 µs a round trip
// through the runtime against 60-100 µs for raw postMessage, nearly all of it page faults in the
// clone's writes to freshly allocated message memory; moved copies took 62-90 µs.
//
// What the other side sees must not change, and the walk runs the caller's code (getters, values
// that marshal themselves), which may change the value behind it. So the walk (codec.ts) only notes
// where buffers and views worth a copy are. Once it is done, the value as it now stands is looked
// at again without running anything of the caller's (own data properties only): arrays without
// holes or names and plain objects, binary data and dates, each container met once, and each noted
// buffer or view exactly at the places noted. Anything else (a Map or class instance, an accessor,
// a proxy, a long array, a view of a noted buffer that was not noted, the caller's own transfer()
// of it) leaves the value to the clone. Otherwise each buffer is copied once, each view rebuilt once
// over its buffer's copy, and both put in their places in fresh copies of the containers on the
// way; nothing the caller or the walk made is written into. A buffer is copied when the call is
// made, not when the turn's messages leave. Per value.
import * as types from 'node:util/types';
import type { PathStep } from './protocol.js';
import type { Transferable } from './transport.js';

/** A buffer or view the walk found, where it is, and what its copy must look like. */
interface Candidate {
  readonly path: PathStep[];
  /** The buffer or view itself, as the walk met it. */
  readonly original: object;
  readonly buffer: ArrayBuffer;
  /** 'ArrayBuffer', 'DataView' or a typed array's name, as the engine knows it (not as the object says). */
  readonly kind: string;
  readonly byteOffset: number;
  /** Elements of a typed array, bytes of a DataView. */
  readonly length: number;
}

/** The part of a walk's state this module reads and writes. */
export interface MoveHolder {
  /** From how many bytes a buffer travels as a moved copy (the link's moveCopiesFrom); undefined: never. */
  readonly moveFrom: number | undefined;
  /** The buffers and views noted so far, if any. */
  moves: Candidate[] | undefined;
}

/** Arrays longer than this are not looked into again (an O(n) look): a value holding one is cloned. */
const MAX_CHECKED_ARRAY = 1024;

// The engine's own getters: an object's own `length`, `buffer` or tag may say something else.
const getter = (proto: object, name: PropertyKey): ((this: unknown) => unknown) => Object.getOwnPropertyDescriptor(proto, name)!.get!;
const TYPED = Object.getPrototypeOf(Uint8Array.prototype) as object;
const typedTag = getter(TYPED, Symbol.toStringTag);
const typedBuffer = getter(TYPED, 'buffer');
const typedOffset = getter(TYPED, 'byteOffset');
const typedLength = getter(TYPED, 'length');
const viewBuffer = getter(DataView.prototype, 'buffer');
const viewOffset = getter(DataView.prototype, 'byteOffset');
const viewLength = getter(DataView.prototype, 'byteLength');
const bufferLength = getter(ArrayBuffer.prototype, 'byteLength');
const bufferResizable = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'resizable')?.get;

/** Typed array constructors by the engine's name for them. */
const VIEWS: Record<string, new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView> = {};
for (const name of ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Float16Array']) {
  const ctor = (globalThis as Record<string, unknown>)[name];
  if (typeof ctor === 'function') VIEWS[name] = ctor as (typeof VIEWS)[string];
}

/**
 * Whether `buffer` is worth a moved copy: a plain ArrayBuffer (not shared, not resizable) of at
 * least `from` bytes. The engine's byteLength getter throws for anything else (a SharedArrayBuffer,
 * a proxy), which is cheaper on the common path than asking what the buffer is first.
 */
function movable(buffer: unknown, from: number): buffer is ArrayBuffer {
  try {
    return (bufferLength.call(buffer) as number) >= from && bufferResizable?.call(buffer) !== true;
  } catch {
    return false;
  }
}

/** Note `obj` at `path` if it is an ArrayBuffer or a view of one worth a moved copy (the walk lets such objects through as they are). */
export function noteBinary(obj: object, path: readonly PathStep[], holder: MoveHolder): void {
  const from = holder.moveFrom!;
  let buffer: unknown;
  let kind: string | undefined;
  let byteOffset = 0;
  let length = 0;
  if (ArrayBuffer.isView(obj)) {
    // The typed array tag getter gives undefined for a DataView, the one other kind of view.
    kind = typedTag.call(obj) as string | undefined;
    buffer = kind === undefined ? viewBuffer.call(obj) : typedBuffer.call(obj);
    if (!movable(buffer, from)) return;
    if (kind === undefined) {
      kind = 'DataView';
      byteOffset = viewOffset.call(obj) as number;
      length = viewLength.call(obj) as number;
    } else {
      if (VIEWS[kind] === undefined) return; // no copy can rebuild it: the look after the walk refuses its buffer
      byteOffset = typedOffset.call(obj) as number;
      length = typedLength.call(obj) as number;
    }
  } else if (types.isArrayBuffer(obj) && movable(obj, from)) {
    buffer = obj;
    kind = 'ArrayBuffer';
  } else {
    return;
  }
  (holder.moves ??= []).push({ path: path.slice(), original: obj, buffer: buffer as ArrayBuffer, kind, byteOffset, length });
}

/** Whether `arr` has named properties or holes: its own keys are then not exactly 0 … length - 1. */
function irregular(arr: unknown[]): boolean {
  const keys = Object.keys(arr);
  const n = arr.length;
  // Index keys come first, in order: with as many keys as elements, the last is a name only if there is a hole.
  return keys.length !== n || (n > 0 && keys[n - 1] !== String(n - 1));
}

/** The buffer a view or buffer stands for (the engine's getters), or undefined for anything else. */
function bufferOf(v: object): unknown {
  if (!ArrayBuffer.isView(v)) return types.isAnyArrayBuffer(v) ? v : undefined;
  return typedTag.call(v) === undefined ? viewBuffer.call(v) : typedBuffer.call(v);
}

/**
 * Whether `root`, looked at through own data properties only, holds nothing but arrays (no holes,
 * no names, at most MAX_CHECKED_ARRAY long), plain objects, primitives, dates and binary data, each
 * container once, and each noted original exactly as often as it was noted, with no other form of
 * a noted buffer (one of `buffers`, the noted ones).
 */
function plainWithMoves(root: unknown, moves: readonly Candidate[], buffers: ReadonlySet<ArrayBuffer>): boolean {
  const noted = new Map<object, number>();
  for (const c of moves) noted.set(c.original, (noted.get(c.original) ?? 0) + 1);
  const found = new Map<object, number>();
  const seen = new Set<object>();
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const v = pending.pop();
    if (typeof v === 'function') return false;
    if (v === null || typeof v !== 'object') continue;
    if (noted.has(v)) {
      found.set(v, (found.get(v) ?? 0) + 1);
      continue;
    }
    if (types.isProxy(v) || seen.has(v)) return false;
    const buffer = bufferOf(v);
    if (buffer !== undefined) {
      if (buffers.has(buffer as ArrayBuffer)) return false;
      continue;
    }
    if (types.isDate(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) {
      if (v.length > MAX_CHECKED_ARRAY || irregular(v)) return false;
    } else {
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
    }
    for (const k of Object.keys(v)) {
      const d = Object.getOwnPropertyDescriptor(v, k);
      if (d === undefined || !('value' in d)) return false;
      pending.push(d.value);
    }
  }
  for (const [original, count] of noted) if (found.get(original) !== count) return false;
  return true;
}

/**
 * The value with moved copies in place of the buffers and views noted, and the transfer list with
 * the copies added; undefined when the value must travel as the walk left it.
 */
export function withMovedCopies(value: unknown, moves: readonly Candidate[], moved: Transferable[] | undefined): { value: unknown; transfer: Transferable[] } | undefined {
  const buffers = new Set(moves.map((c) => c.buffer));
  if (moved?.some((item) => buffers.has(item as ArrayBuffer))) return undefined;
  if (!plainWithMoves(value, moves, buffers)) return undefined;
  const copies = new Map<ArrayBuffer, ArrayBuffer>();
  try {
    for (const buffer of buffers) {
      const bytes = bufferLength.call(buffer) as number;
      // Not slice(): it would run a subclass's species constructor.
      const copy = new ArrayBuffer(bytes);
      new Uint8Array(copy).set(new Uint8Array(buffer, 0, bytes));
      copies.set(buffer, copy);
    }
  } catch {
    return undefined; // no memory for a copy (or a buffer detached meanwhile): the clone tries, and reports what it finds
  }
  // The containers copied here; nothing else is written into.
  const mine = new Set<object>();
  // One replacement per original: a view met in two places is one view there too.
  const replacements = new Map<object, object>();
  let root = value;
  for (const c of moves) {
    let replacement = replacements.get(c.original);
    if (replacement === undefined) {
      const copy = copies.get(c.buffer)!;
      replacement = c.kind === 'ArrayBuffer' ? copy : c.kind === 'DataView' ? new DataView(copy, c.byteOffset, c.length) : new VIEWS[c.kind]!(copy, c.byteOffset, c.length);
      replacements.set(c.original, replacement);
    }
    const placed = place(root, c, replacement, mine);
    if (placed === undefined) return undefined;
    root = placed;
  }
  return { value: root, transfer: [...(moved ?? []), ...copies.values()] };
}

/** `root` with `replacement` where `c` was, in copies of the containers on the way; undefined when the place no longer holds what the walk met. */
function place(root: unknown, c: Candidate, replacement: object, mine: Set<object>): unknown {
  const path = c.path;
  if (path.length === 0) return replacement;
  const top = own(root as object, mine);
  let container = top;
  for (let i = 0; i < path.length - 1; i++) {
    const child = container[path[i]!];
    if (child === null || typeof child !== 'object') return undefined;
    const copy = own(child, mine);
    setOwn(container, path[i]!, copy);
    container = copy;
  }
  const last = path[path.length - 1]!;
  if (container[last] !== c.original) return undefined;
  setOwn(container, last, replacement);
  return top;
}

/** A copy of a container (its own data properties, as plainWithMoves found them), or the copy already made. */
function own(container: object, mine: Set<object>): Record<PathStep, unknown> {
  if (mine.has(container)) return container as Record<PathStep, unknown>;
  const array = Array.isArray(container);
  const copy = (array ? new Array((container as unknown[]).length) : Object.create(Object.getPrototypeOf(container) === null ? null : Object.prototype)) as Record<PathStep, unknown>;
  for (const k of Object.keys(container)) setOwn(copy, k, Object.getOwnPropertyDescriptor(container, k)!.value);
  mine.add(copy);
  return copy;
}

/** Put `value` at `key` as an own data property, `__proto__` included (the codec's walk copies with it too). */
export function setOwn(container: Record<PathStep, unknown>, key: PathStep, value: unknown): void {
  // An own `__proto__` key must stay a data property: define it rather than assign (which would set the prototype).
  if (key === '__proto__') Object.defineProperty(container, key, { value, writable: true, enumerable: true, configurable: true });
  else container[key] = value;
}
