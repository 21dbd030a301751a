// Value encoding for the wire. Most values are copied by structured clone as they are; this walk
// only finds what cannot be copied that way: functions, by-reference objects and proxies (sent as
// WireRefs with their path, the value holding null there) and transfer() lists. The walk copies a
// container only when something inside it was replaced, so a plain argument list costs no
// allocation. Decoding puts the resolved references back at their paths. The walk also asks the
// link to the peer what it can carry: values built on shared memory need a link whose two sides
// share memory, and transfer lists a link that carries structured clones. Over a link that asks for
// it, large binary data is copied here and the copy moved (moved-copies.ts), after the walk.
import { MarshalError } from './errors.js';
import { CUSTOM_MARSHAL, isByRefObject, takeTransferList, type CustomMarshaled } from './by-ref.js';
import { copiedChars, holdsNoStrings, MAX_COPIED_CHARS, tooManyChars } from './copy-weight.js';
import { countString, customMarshaled, enter, flatArray, LOOSE_ITEMS, mayWalkLoose, RECOUNT, settle, walkLoose, type LooseState } from './small-containers.js';
import { noteBinary, setOwn, withMovedCopies, type MoveHolder } from './moved-copies.js';
import { copiedBefore, enumerableInObjectPrototype, sizeUpTo } from './plain-keys.js';
import type { PathStep, RefKindCode, WireRef, WireRefs } from './protocol.js';
import { RefKind } from './protocol.js';
import { REMOTE_STATE, type RemoteState } from './remote-state.js';
import { marshalStream } from './streams.js';
import type { LinkTraits, Transferable } from './transport.js';

/** How references are made and resolved; implemented by the apartment's endpoint. */
export interface RefSpace {
  /** Export a local object or function to `peer`; returns [apartment, oid, kind, loan]. */
  exportLocal(value: object, kind: RefKindCode, peer: number): [number, number, RefKindCode, number, string | 0];
  /** Hand `proxy`, which this thread holds, on to `peer`; returns [apartment, oid, kind, loan]. */
  marshalProxy(state: RemoteState, peer: number, proxy: object): [number, number, RefKindCode, number, string | 0];
  /** Turn a reference that arrived from `peer` into a local object or a proxy. */
  resolve(ref: WireRef, peer: number): unknown;
  /** Give back references made for a value that will not be sent after all. */
  discard(refs: WireRef[], peer: number): void;
  /** Rebuild a value sent by value under `key` (may be asynchronous, e.g. to load its class). */
  unmarshal(key: string, payload: unknown, peer: number): unknown;
  /**
   * What the link to `peer` can carry; undefined while the link is still being made (the channel
   * then checks the calls queued for it when it arrives, see uncarriable()).
   */
  linkTo(peer: number): LinkTraits | undefined;
}

/** An encoded value: the clone-ready value, the references found in it, and what to transfer. */
export interface Encoded {
  value: unknown;
  refs: WireRefs;
  transfer: Transferable[] | undefined;
}

interface WalkState extends MoveHolder, LooseState {
  space: RefSpace;
  path: PathStep[];
  transfer: Transferable[] | undefined;
  root: string;
  /** The link to the peer, looked up once per value (undefined while it is being made). */
  link: LinkTraits | undefined;
  /** Objects the walk does not enter whose strings were counted (copy-weight.ts). */
  weighed?: Set<object>;
  /** Object.prototype has an enumerable key (someone added one), which for-in lists on every plain object. */
  inheritedKeys: boolean;
}

/** Encode an argument list (paths start at the argument index). */
export function encodeArgs(space: RefSpace, args: unknown[], peer: number): Encoded {
  let simple = true;
  let chars = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a === 'string') chars += a.length;
    else if (a !== null && (typeof a === 'object' || typeof a === 'function' || typeof a === 'symbol')) {
      simple = false;
      break;
    }
  }
  if (simple) {
    if (chars > MAX_COPIED_CHARS) throw tooManyChars('args');
    return { value: args, refs: 0, transfer: undefined };
  }
  return run(space, peer, 'args', (st) => walkArray(args, st));
}

/** Encode one value (a result); paths start at the value itself. */
export function encodeValue(space: RefSpace, value: unknown, peer: number): Encoded {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol')) {
    return { value, refs: 0, transfer: undefined };
  }
  return run(space, peer, 'result', (st) => walk(value, st));
}

function run(space: RefSpace, peer: number, root: string, body: (st: WalkState) => unknown, again?: WalkState): Encoded {
  const link = again ? again.link : space.linkTo(peer);
  // Walked again (small-containers.ts): the transfer lists the first walk took (taking consumes
  // them) are kept, and so is what CUSTOM_MARSHAL returned.
  const st: WalkState = { space, peer, path: [], refs: undefined, transfer: again?.transfer, seen: undefined, root, link, chars: 0, moveFrom: link?.moveCopiesFrom, moves: undefined, looseVisits: 0, approx: false, exact: again !== undefined, customs: again?.customs, customsTaken: 0, markChars: 0, markApprox: false, markRefs: 0, inheritedKeys: enumerableInObjectPrototype() };
  try {
    const value = body(st);
    const moved = st.moves && withMovedCopies(value, st.moves, st.transfer);
    if (moved) return { value: moved.value, refs: st.refs ?? 0, transfer: moved.transfer };
    return { value, refs: st.refs ?? 0, transfer: st.transfer };
  } catch (err) {
    if (st.refs) st.space.discard(st.refs, st.peer);
    if (err === RECOUNT) return run(space, peer, root, body, st);
    throw err;
  }
}

/** The error for a count past MAX_COPIED_CHARS at `path`: RECOUNT when the count may hold repeats. */
function overLimit(st: WalkState, path: readonly PathStep[]): unknown {
  return st.approx ? RECOUNT : tooManyChars(formatPath(st.root, path));
}

/**
 * Put references back into a received value; `value` is a fresh clone and is changed in place.
 * Returns a promise only when an unmarshaler had to wait (loading a class); otherwise the value.
 */
export function decodeValue(space: RefSpace, value: unknown, refs: WireRefs, peer: number): unknown {
  if (refs === 0) return value;
  let root = value;
  let waits: Promise<unknown>[] | undefined;
  for (const ref of refs) {
    const path = ref[0];
    let resolved: unknown;
    if (ref[3] === RefKind.Value) {
      const holder = valueAt(root, path) as { k?: unknown; p?: unknown } | null;
      if (holder === null || typeof holder !== 'object' || typeof holder.k !== 'string') {
        throw new MarshalError(`[marshal] a by-value reference at ${formatPath('value', path)} is malformed`, { path: formatPath('value', path) });
      }
      resolved = space.unmarshal(holder.k, holder.p, peer);
      if (resolved instanceof Promise) {
        const at = path;
        (waits ??= []).push(resolved.then((v) => {
          root = put(root, at, v);
        }));
        continue;
      }
    } else {
      resolved = space.resolve(ref, peer);
    }
    root = put(root, path, resolved);
  }
  return waits ? Promise.all(waits).then(() => root) : root;
}

/**
 * The value at `path` in a received value. A path comes from the peer: each step must name an own
 * property of an array or plain object inside the value, so a hostile path cannot reach a
 * prototype (`__proto__`, `constructor`) or anything outside the value.
 */
function valueAt(root: unknown, path: readonly PathStep[], upTo = path.length): unknown {
  let v = root;
  for (let i = 0; i < upTo; i++) v = (holder(v, path, i) as Record<PathStep, unknown>)[path[i]!];
  return v;
}

function holder(v: unknown, path: readonly PathStep[], i: number): object {
  if (v === null || typeof v !== 'object' || !Object.hasOwn(v, path[i]!)) {
    throw new MarshalError(`[marshal] a reference's path ${formatPath('value', path.slice(0, i + 1))} does not lead into the value; the peer sent a malformed reference`, { path: formatPath('value', path) });
  }
  return v;
}

function put(root: unknown, path: readonly PathStep[], value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = holder(valueAt(root, path, path.length - 1), path, path.length - 1);
  const key = path[path.length - 1]!;
  // An own `__proto__` key must stay a data property: define it rather than assign (which would set the prototype).
  if (key === '__proto__') Object.defineProperty(parent, key, { value, writable: true, enumerable: true, configurable: true });
  else (parent as Record<PathStep, unknown>)[key] = value;
  return root;
}

/** Render a path for error messages: args[1].options.cb */
export function formatPath(root: string, path: readonly PathStep[]): string {
  let s = root;
  for (const step of path) s += typeof step === 'number' ? `[${step}]` : /^[A-Za-z_$][\w$]*$/.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
  return s;
}

function addRef(st: WalkState, r: [number, number, RefKindCode, number, string | 0]): null {
  (st.refs ??= []).push([st.path.slice(), r[0], r[1], r[2], r[3], r[4]]);
  return null;
}

function walk(v: unknown, st: WalkState): unknown {
  if (v === null) return v;
  const t = typeof v;
  if (t === 'symbol') {
    throw new MarshalError(`[marshal] ${formatPath(st.root, st.path)} is a symbol, which cannot cross apartments; pass a string instead`, { path: formatPath(st.root, st.path) });
  }
  if (t === 'function') {
    const state = (v as { [REMOTE_STATE]?: RemoteState })[REMOTE_STATE];
    if (state) return addRef(st, st.space.marshalProxy(state, st.peer, v as object));
    return addRef(st, st.space.exportLocal(v as object, RefKind.Function, st.peer));
  }
  if (t !== 'object') return v;
  const obj = v as object;
  const state = (obj as { [REMOTE_STATE]?: RemoteState })[REMOTE_STATE];
  if (state) return addRef(st, st.space.marshalProxy(state, st.peer, obj));
  const custom = (obj as { [CUSTOM_MARSHAL]?: () => CustomMarshaled })[CUSTOM_MARSHAL];
  if (typeof custom === 'function') return walkByValue(customMarshaled(obj, custom, st), st);
  const moved = takeTransferList(obj);
  if (moved) {
    const link = st.link;
    if (link && link.carries !== 'clone') {
      const where = formatPath(st.root, st.path);
      throw new MarshalError(`[link-carries-bytes] ${where} moves objects with transfer(), and the '${link.name}' link to the other apartment carries bytes only; send copies instead`, { path: where });
    }
    (st.transfer ??= []).push(...moved);
  }
  if (Array.isArray(obj)) return walkArray(obj, st);
  const proto = Object.getPrototypeOf(obj) as object | null;
  if (isByRefObject(obj, proto)) return addRef(st, st.space.exportLocal(obj, RefKind.Object, st.peer));
  // Async iterables and web streams travel as streams (streams.ts), by reference to their producer.
  // A plain object is never a web stream (those are class instances): only its async iterator is asked.
  const plain = proto === Object.prototype || proto === null;
  if (!plain || typeof (obj as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function') {
    const streamed = marshalStream(obj, () => formatPath(st.root, st.path));
    if (streamed) return walkByValue(streamed, st);
  }
  if (plain) return walkPlain(obj as Record<string, unknown>, st);
  if (obj instanceof Promise) {
    const where = formatPath(st.root, st.path);
    throw new MarshalError(`[marshal] ${where} is a Promise; await it before passing the value`, { path: where });
  }
  if (obj instanceof WeakMap || obj instanceof WeakSet || obj instanceof WeakRef) {
    const where = formatPath(st.root, st.path);
    throw new MarshalError(`[marshal] ${where} is a ${obj.constructor.name}, which cannot be copied; pass its contents or wrap the owner with byRef()`, { path: where });
  }
  // Only a link known to share no memory needs the look; a pending one is checked when it arrives.
  if (st.link?.sharedMemory === false && isSharedMemory(obj)) needSharedMemory(st, 'shared memory');
  // A port is an endpoint of this process: it can only be moved, which a bytes link cannot do.
  if (st.link?.carries === 'bytes' && typeof MessagePort === 'function' && obj instanceof MessagePort) {
    const where = formatPath(st.root, st.path);
    throw new MarshalError(`[link-carries-bytes] ${where} is a MessagePort, which can only be moved, and the '${st.link.name}' link to the other apartment carries bytes only; pass plain data or an object by reference instead`, { path: where });
  }
  // The walk enters only arrays and plain objects of this realm; a copy carries the rest too (Maps,
  // Sets, class instances, objects of other realms), so their strings are counted here. With a set
  // of their own: an object only weighed here must still be walked if the walk meets it elsewhere.
  // Binary data, the usual object argument, is let through before anything is allocated for it.
  if (holdsNoStrings(obj)) {
    if (st.moveFrom !== undefined) noteBinary(obj, st.path, st);
    return v;
  }
  const weighed = (st.weighed ??= new Set());
  if (weighed.has(obj)) return v;
  st.chars += copiedChars(obj, MAX_COPIED_CHARS - st.chars, weighed);
  if (st.chars > MAX_COPIED_CHARS) throw overLimit(st, st.path);
  return v;
}

/** The oid slot of a by-value reference whose value needs memory shared with the sender. */
const NEEDS_SHARED_MEMORY = 1;

function isSharedMemory(obj: object): boolean {
  return obj instanceof SharedArrayBuffer || (ArrayBuffer.isView(obj) && obj.buffer instanceof SharedArrayBuffer);
}

/** Refuse `what` at the walk's position when the link to the peer shares no memory. */
function needSharedMemory(st: WalkState, what: string): void {
  const link = st.link;
  if (link === undefined || link.sharedMemory) return;
  throw noSharedMemory(formatPath(st.root, st.path), what, link);
}

function noSharedMemory(where: string, what: string, link: LinkTraits): MarshalError {
  return new MarshalError(`[no-shared-memory] ${where} is ${what}, and the '${link.name}' link to the other apartment shares no memory; pass plain data instead`, { path: where });
}

/**
 * A call queued before its link existed, checked when the link arrives: the MarshalError it fails
 * with because `link` cannot carry its arguments (shared memory, moved objects), or undefined.
 */
export function uncarriable(args: unknown, refs: WireRefs, transfer: readonly Transferable[] | undefined, link: LinkTraits): MarshalError | undefined {
  if (!link.sharedMemory) {
    const declared = refs === 0 ? undefined : refs.find((r) => r[3] === RefKind.Value && r[2] === NEEDS_SHARED_MEMORY);
    if (declared) return noSharedMemory(formatPath('args', declared[0]), `a '${(valueAt(args, declared[0]) as { k: string }).k}' value, which lives in shared memory`, link);
    const at = findSharedMemory(args, [], new Set());
    if (at) return noSharedMemory(formatPath('args', at), 'shared memory', link);
  }
  if (link.carries !== 'clone' && transfer && transfer.length > 0) {
    return new MarshalError(`[link-carries-bytes] the arguments move objects with transfer(), and the '${link.name}' link to the other apartment carries bytes only; send copies instead`, { path: 'args' });
  }
  return undefined;
}

function findSharedMemory(value: unknown, path: PathStep[], seen: Set<object>): PathStep[] | undefined {
  if (value === null || typeof value !== 'object' || seen.has(value)) return undefined;
  if (isSharedMemory(value)) return path;
  seen.add(value);
  const proto = Object.getPrototypeOf(value) as object | null;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return undefined;
  for (const key of Object.keys(value)) {
    const found = findSharedMemory((value as Record<string, unknown>)[key], [...path, Array.isArray(value) ? Number(key) : key], seen);
    if (found) return found;
  }
  return undefined;
}

function walkByValue({ key, payload, sharedMemory }: CustomMarshaled, st: WalkState): unknown {
  if (sharedMemory) needSharedMemory(st, `a '${key}' value, which lives in shared memory`);
  // References inside the payload are recorded first, so they are resolved before the rebuild.
  st.path.push('p');
  const p = walk(payload, st);
  st.path.pop();
  (st.refs ??= []).push([st.path.slice(), 0, sharedMemory ? NEEDS_SHARED_MEMORY : 0, RefKind.Value, 0, 0]);
  return { k: key, p };
}

/** Count the strings of a flat array (small-containers.ts) held at `step` of a loose container. */
function countFlat(flat: unknown[], step: PathStep, st: WalkState): void {
  for (let j = 0; j < flat.length; j++) {
    const v = flat[j];
    if (typeof v === 'string' && countString(st, v, true, MAX_COPIED_CHARS)) throw overLimit(st, [...st.path, step, j]);
  }
}

// A small container is walked loose until its first item that is an object (small-containers.ts).
function walkArray(arr: unknown[], st: WalkState): unknown[] {
  let loose = false;
  if (st.path.length > 0 && !(loose = walkLoose(arr.length, st)) && !enter(arr, st)) return arr;
  let out: unknown[] | undefined;
  for (let i = 0; i < arr.length; i++) {
    const item = arr[i];
    if (item === null || (typeof item !== 'object' && typeof item !== 'function' && typeof item !== 'symbol')) {
      if (typeof item === 'string' && countString(st, item, loose, MAX_COPIED_CHARS)) throw overLimit(st, [...st.path, i]);
      // A hole stays a hole, as structured clone keeps it (an undefined there would fill a sparse array).
      if (out && (item !== undefined || i in arr)) out[i] = item;
      continue;
    }
    if (loose && typeof item === 'object') {
      if (flatArray(item)) {
        countFlat(item, i, st);
        if (out) out[i] = item;
        continue;
      }
      loose = false;
      if (!settle(arr, st)) return arr;
    }
    st.path.push(i);
    const enc = walk(item, st);
    st.path.pop();
    if (enc !== item && !out) out = arr.slice(0, i);
    if (out) out[i] = enc;
  }
  if (out) out.length = arr.length;
  return out ?? arr;
}

// Keys are read with for-in (plain-keys.ts says why); what was walked already is not read again,
// which for-in would do in full for an object without an enum cache (a dictionary, a Proxy).
function walkPlain(obj: Record<string, unknown>, st: WalkState): unknown {
  const mayLoose = mayWalkLoose(st);
  if (!mayLoose && !enter(obj, st)) return obj;
  if (mayLoose && st.seen?.has(obj)) return obj;
  const inherited = st.inheritedKeys;
  const size = mayLoose ? sizeUpTo(obj, LOOSE_ITEMS + 1, inherited) : 0;
  let loose = mayLoose && walkLoose(size, st);
  if (mayLoose && !loose) enter(obj, st);
  let out: Record<string, unknown> | undefined;
  for (const k in obj) {
    if (inherited && !Object.hasOwn(obj, k)) continue;
    const item = obj[k];
    if (item === null || (typeof item !== 'object' && typeof item !== 'function' && typeof item !== 'symbol')) {
      if (typeof item === 'string' && countString(st, item, loose, MAX_COPIED_CHARS)) throw overLimit(st, [...st.path, k]);
      if (out) setOwn(out, k, item);
      continue;
    }
    if (loose && typeof item === 'object') {
      if (flatArray(item)) {
        countFlat(item, k, st);
        if (out) setOwn(out, k, item);
        continue;
      }
      loose = false;
      if (!settle(obj, st)) return obj;
    }
    st.path.push(k);
    const enc = walk(item, st);
    st.path.pop();
    if (enc !== item && !out) out = copiedBefore(obj, k, inherited);
    if (out) setOwn(out, k, enc);
  }
  return out ?? obj;
}
