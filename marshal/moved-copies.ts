// Large binary data copied to another apartment: this side makes the copy and moves it, instead of
// letting the structured clone copy it twice (once into the message, once out of it). Measured on a
// two-core machine (Node 20): a 64 KiB ArrayBuffer echoed over a port took 250-290 µs a round trip
// through the runtime against 60-100 µs for raw postMessage, nearly all of it page faults in the
// clone's writes to freshly allocated message memory; moved copies took 62-90 µs.
//
// What the other side sees must not change. So the codec's walk (codec.ts) only notes where such
// buffers and views are; once the walk is done, and only if nothing else in the value could hold
// one of those buffers (an object the walk does not enter, a container met twice, an array with
// named properties or holes, a proxy or an accessor on the way, a buffer the caller moves itself),
// each buffer is copied once, each view rebuilt once over its buffer's copy, and each put in its
// places, copying the caller's containers on the way (their data properties only: no getter runs
// again). The caller keeps its buffer, and anything else is left to the clone. A buffer is copied
// when the call is made, not when the turn's messages leave. Per value.
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

/** What one walk notes for moved copies; made on the first thing worth noting. */
export interface MoveState {
  candidates?: Candidate[];
  /** Arrays the walk entered: one with named properties or holes could carry a buffer unseen. */
  arrays?: unknown[][];
  /** Containers the walk made itself (the value's own copies), which may be written into. */
  made?: Set<object>;
  /** Something in the value could carry a buffer the walk did not see: no copies for this value. */
  opaque: boolean;
}

/** The part of a walk's state this module reads and writes. */
export interface MoveHolder {
  /** From how many bytes a buffer travels as a moved copy (the link's moveCopiesFrom); undefined: never. */
  readonly moveFrom: number | undefined;
  move: MoveState | undefined;
}

/** Arrays longer than this are not checked for named properties (an O(n) look): a value holding one is cloned. */
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

function moving(holder: MoveHolder): MoveState {
  return (holder.move ??= { opaque: false });
}

/** The value could carry a noted buffer where the walk did not look. */
export function noteOpaque(holder: MoveHolder): void {
  if (holder.moveFrom !== undefined) moving(holder).opaque = true;
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
      if (VIEWS[kind] === undefined) return noteOpaque(holder);
      byteOffset = typedOffset.call(obj) as number;
      length = typedLength.call(obj) as number;
    }
  } else if (types.isArrayBuffer(obj) && movable(obj, from)) {
    buffer = obj;
    kind = 'ArrayBuffer';
  } else {
    return;
  }
  (moving(holder).candidates ??= []).push({ path: path.slice(), original: obj, buffer: buffer as ArrayBuffer, kind, byteOffset, length });
}

/** Note an array the walk entered (not the runtime's own argument list). */
export function noteArray(arr: unknown[], holder: MoveHolder): void {
  if (types.isProxy(arr) || arr.length > MAX_CHECKED_ARRAY) noteOpaque(holder);
  else (moving(holder).arrays ??= []).push(arr);
}

/** Record a container the walk made itself. */
export function noteMade(container: object, holder: MoveHolder): void {
  if (holder.moveFrom !== undefined) (moving(holder).made ??= new Set()).add(container);
}

/** Whether `arr` has named properties or holes: its own keys are then not exactly 0 … length - 1. */
function irregular(arr: unknown[]): boolean {
  const keys = Object.keys(arr);
  const n = arr.length;
  // Index keys come first, in order: with as many keys as elements, the last is a name only if there is a hole.
  return keys.length !== n || (n > 0 && keys[n - 1] !== String(n - 1));
}

/**
 * The value with moved copies in place of the buffers and views noted, and the transfer list with
 * the copies added; undefined when the value must travel as the walk left it (nothing noted, or
 * something could carry a noted buffer where no copy would be, or a copy could not be made).
 */
export function withMovedCopies(value: unknown, move: MoveState, moved: Transferable[] | undefined): { value: unknown; transfer: Transferable[] } | undefined {
  const candidates = move.candidates;
  if (!candidates || move.opaque) return undefined;
  const buffers = new Set(candidates.map((c) => c.buffer));
  if (moved?.some((item) => buffers.has(item as ArrayBuffer))) return undefined;
  if (move.arrays?.some(irregular)) return undefined;
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
    return undefined; // no memory for a copy: the clone tries, and reports what it finds
  }
  const made = move.made ?? new Set<object>();
  // One replacement per original: a view met in two places is one view there too.
  const replacements = new Map<object, object>();
  let root = value;
  for (const c of candidates) {
    let replacement = replacements.get(c.original);
    if (replacement === undefined) {
      const copy = copies.get(c.buffer)!;
      replacement = c.kind === 'ArrayBuffer' ? copy : c.kind === 'DataView' ? new DataView(copy, c.byteOffset, c.length) : new VIEWS[c.kind]!(copy, c.byteOffset, c.length);
      replacements.set(c.original, replacement);
    }
    const placed = place(root, c, replacement, made);
    if (placed === undefined) return undefined;
    root = placed;
  }
  return { value: root, transfer: [...(moved ?? []), ...copies.values()] };
}

/**
 * `root` with `replacement` where `c` was, copying the caller's containers on the way; undefined
 * when a container is a proxy or has an accessor, or the place no longer holds what the walk met.
 */
function place(root: unknown, c: Candidate, replacement: object, made: Set<object>): unknown {
  const path = c.path;
  if (path.length === 0) return replacement;
  const top = own(root as object, made);
  if (top === undefined) return undefined;
  let container = top;
  for (let i = 0; i < path.length - 1; i++) {
    const child = own(container[path[i]!] as object, made);
    if (child === undefined) return undefined;
    setOwn(container, path[i]!, child);
    container = child;
  }
  const last = path[path.length - 1]!;
  if (container[last] !== c.original) return undefined;
  setOwn(container, last, replacement);
  return top;
}

/** A container of the value this side may write into: the walk's own, or a copy of the caller's data properties. */
function own(container: object, made: Set<object>): Record<PathStep, unknown> | undefined {
  if (made.has(container)) return container as Record<PathStep, unknown>;
  if (container === null || typeof container !== 'object' || types.isProxy(container)) return undefined;
  const array = Array.isArray(container);
  const copy = (array ? new Array((container as unknown[]).length) : Object.create(Object.getPrototypeOf(container) === null ? null : Object.prototype)) as Record<PathStep, unknown>;
  for (const k of Object.keys(container)) {
    const d = Object.getOwnPropertyDescriptor(container, k);
    if (d === undefined || !('value' in d)) return undefined;
    setOwn(copy, k, d.value);
  }
  made.add(copy);
  return copy;
}

function setOwn(container: Record<PathStep, unknown>, key: PathStep, value: unknown): void {
  // An own `__proto__` key must stay a data property: define it rather than assign (which would set the prototype).
  if (key === '__proto__') Object.defineProperty(container, key, { value, writable: true, enumerable: true, configurable: true });
  else container[key] = value;
}
