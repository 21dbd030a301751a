// Large binary data copied to another apartment: this side makes the copy and moves it, instead of
// letting the structured clone copy it twice (once into the message, once out of it). Measured on a
// two-core machine (Node 20): a 64 KiB ArrayBuffer echoed over a port took 250-290 µs a round trip
// through the runtime against 60-100 µs for raw postMessage, nearly all of it page faults in the
// clone's writes to freshly allocated message memory; moved copies took 62-90 µs.
//
// What the other side sees must not change. So the codec's walk (codec.ts) only notes where such
// buffers and views are; once the walk is done, and only if nothing else in the value could hold
// one of those buffers (an object the walk does not enter, a container met twice, an array with
// named properties, a buffer the caller moves itself), each buffer is copied once, and the copy, or
// a view of it, is put at each place, copying the caller's containers on the way. The caller keeps
// its buffer, two views of one buffer share one copy, and anything else is left to the clone. A
// buffer is copied when the call is made, not when the turn's messages leave. Per value.
import * as types from 'node:util/types';
import type { PathStep } from './protocol.js';
import type { Transferable } from './transport.js';

/** A buffer or view the walk found, where it is, and what its copy must look like. */
interface Candidate {
  readonly path: PathStep[];
  readonly buffer: ArrayBuffer;
  /** 'ArrayBuffer', 'DataView' or a typed array's name, as the engine knows it (not as the object says). */
  readonly kind: string;
  readonly byteOffset: number;
  /** Elements of a typed array, bytes of a DataView. */
  readonly length: number;
}

/** What one walk notes for moved copies. */
export interface MoveState {
  /** From how many bytes a buffer travels as a moved copy. */
  readonly from: number;
  candidates?: Candidate[];
  /** Arrays the walk entered: one with named properties could carry a buffer the walk never saw. */
  arrays?: unknown[][];
  /** Containers the walk made itself (the value's own copies), which may be written into. */
  made?: Set<object>;
  /** Something in the value could carry a buffer the walk did not see: no copies for this value. */
  opaque: boolean;
}

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

/** Whether `buffer` is worth a moved copy: a plain ArrayBuffer (not shared, not resizable) of at least `from` bytes. */
function movable(buffer: unknown, from: number): buffer is ArrayBuffer {
  return types.isArrayBuffer(buffer) && (bufferLength.call(buffer) as number) >= from && bufferResizable?.call(buffer) !== true;
}

/**
 * Note `obj` at `path` if it is binary data: true when it is (the walk lets it through as it is
 * for now), false for anything else. Binary data of a kind a copy cannot rebuild makes the value opaque.
 */
export function noteBinary(obj: object, path: readonly PathStep[], move: MoveState): boolean {
  let candidate: Candidate;
  if (types.isArrayBuffer(obj)) {
    if (!movable(obj, move.from)) return true;
    candidate = { path: path.slice(), buffer: obj, kind: 'ArrayBuffer', byteOffset: 0, length: 0 };
  } else if (types.isTypedArray(obj)) {
    const buffer = typedBuffer.call(obj);
    if (!movable(buffer, move.from)) return true;
    const kind = typedTag.call(obj) as string;
    if (VIEWS[kind] === undefined) {
      move.opaque = true;
      return true;
    }
    candidate = { path: path.slice(), buffer, kind, byteOffset: typedOffset.call(obj) as number, length: typedLength.call(obj) as number };
  } else if (types.isDataView(obj)) {
    const buffer = viewBuffer.call(obj);
    if (!movable(buffer, move.from)) return true;
    candidate = { path: path.slice(), buffer, kind: 'DataView', byteOffset: viewOffset.call(obj) as number, length: viewLength.call(obj) as number };
  } else {
    return false;
  }
  (move.candidates ??= []).push(candidate);
  return true;
}

/** Record a container the walk made itself. */
export function noteMade(container: object, move: MoveState | undefined): void {
  if (move) (move.made ??= new Set()).add(container);
}

/**
 * The value with moved copies in place of the buffers noted, and the transfer list with the
 * copies added; undefined when the value must travel as the walk left it (nothing noted, or
 * something could carry a noted buffer where no copy would be, or a copy could not be made).
 */
export function withMovedCopies(value: unknown, move: MoveState, moved: Transferable[] | undefined): { value: unknown; transfer: Transferable[] } | undefined {
  const candidates = move.candidates;
  if (!candidates || move.opaque) return undefined;
  const buffers = new Set(candidates.map((c) => c.buffer));
  if (moved?.some((item) => buffers.has(item as ArrayBuffer))) return undefined;
  // Holes count too: the copies of the containers below would not keep them.
  if (move.arrays?.some((arr) => Object.keys(arr).length !== arr.length)) return undefined;
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
  let root = value;
  for (const c of candidates) {
    const copy = copies.get(c.buffer)!;
    const replacement = c.kind === 'ArrayBuffer' ? copy : c.kind === 'DataView' ? new DataView(copy, c.byteOffset, c.length) : new VIEWS[c.kind]!(copy, c.byteOffset, c.length);
    const placed = place(root, c.path, replacement, made);
    if (placed === undefined) return undefined;
    root = placed;
  }
  return { value: root, transfer: [...(moved ?? []), ...copies.values()] };
}

/** `root` with `replacement` at `path`, copying the caller's containers on the way; undefined at a proxy. */
function place(root: unknown, path: readonly PathStep[], replacement: object, made: Set<object>): unknown {
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
  setOwn(container, path[path.length - 1]!, replacement);
  return top;
}

/** A container of the value this side may write into: the walk's own, or a copy of the caller's. */
function own(container: object, made: Set<object>): Record<PathStep, unknown> | undefined {
  if (made.has(container)) return container as Record<PathStep, unknown>;
  if (types.isProxy(container)) return undefined;
  const copy = Array.isArray(container) ? container.slice() : Object.create(Object.getPrototypeOf(container) === null ? null : Object.prototype);
  if (!Array.isArray(container)) for (const k of Object.keys(container)) setOwn(copy, k, (container as Record<string, unknown>)[k]);
  made.add(copy);
  return copy as Record<PathStep, unknown>;
}

function setOwn(container: Record<PathStep, unknown>, key: PathStep, value: unknown): void {
  // An own `__proto__` key must stay a data property: define it rather than assign (which would set the prototype).
  if (key === '__proto__') Object.defineProperty(container, key, { value, writable: true, enumerable: true, configurable: true });
  else container[key] = value;
}
