// Value encoding for the wire. Most values are copied by structured clone as they are; this walk
// only finds what cannot be copied that way: functions, by-reference objects and proxies (sent as
// WireRefs with their path, the value holding null there) and transfer() lists. The walk copies a
// container only when something inside it was replaced, so a plain argument list costs no
// allocation. Decoding puts the resolved references back at their paths.
import { MarshalError } from './errors.js';
import { CUSTOM_MARSHAL, isByRefObject, takeTransferList, type CustomMarshaled } from './by-ref.js';
import type { PathStep, RefKindCode, WireRef, WireRefs } from './protocol.js';
import { RefKind } from './protocol.js';
import { REMOTE_STATE, type RemoteState } from './remote-state.js';
import { marshalStream } from './streams.js';
import type { Transferable } from './transport.js';

/** How references are made and resolved; implemented by the apartment's endpoint. */
export interface RefSpace {
  /** Export a local object or function to `peer`; returns [apartment, oid, kind, loan]. */
  exportLocal(value: object, kind: RefKindCode, peer: number): [number, number, RefKindCode, number];
  /** Hand a proxy this apartment holds on to `peer`; returns [apartment, oid, kind, loan]. */
  marshalProxy(state: RemoteState, peer: number): [number, number, RefKindCode, number];
  /** Turn a reference that arrived from `peer` into a local object or a proxy. */
  resolve(ref: WireRef, peer: number): unknown;
  /** Give back references made for a value that will not be sent after all. */
  discard(refs: WireRef[], peer: number): void;
  /** Rebuild a value sent by value under `key` (may be asynchronous, e.g. to load its class). */
  unmarshal(key: string, payload: unknown, peer: number): unknown;
}

/** An encoded value: the clone-ready value, the references found in it, and what to transfer. */
export interface Encoded {
  value: unknown;
  refs: WireRefs;
  transfer: Transferable[] | undefined;
}

interface WalkState {
  space: RefSpace;
  peer: number;
  path: PathStep[];
  refs: WireRef[] | undefined;
  transfer: Transferable[] | undefined;
  seen: Set<object> | undefined;
  root: string;
}

/** Encode an argument list (paths start at the argument index). */
export function encodeArgs(space: RefSpace, args: unknown[], peer: number): Encoded {
  let simple = true;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a !== null && (typeof a === 'object' || typeof a === 'function' || typeof a === 'symbol')) {
      simple = false;
      break;
    }
  }
  if (simple) return { value: args, refs: 0, transfer: undefined };
  const st: WalkState = { space, peer, path: [], refs: undefined, transfer: undefined, seen: undefined, root: 'args' };
  return run(st, () => walkArray(args, st));
}

/** Encode one value (a result); paths start at the value itself. */
export function encodeValue(space: RefSpace, value: unknown, peer: number): Encoded {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol')) {
    return { value, refs: 0, transfer: undefined };
  }
  const st: WalkState = { space, peer, path: [], refs: undefined, transfer: undefined, seen: undefined, root: 'result' };
  return run(st, () => walk(value, st));
}

function run(st: WalkState, body: () => unknown): Encoded {
  try {
    const value = body();
    return { value, refs: st.refs ?? 0, transfer: st.transfer };
  } catch (err) {
    if (st.refs) st.space.discard(st.refs, st.peer);
    throw err;
  }
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

function valueAt(root: unknown, path: readonly PathStep[]): unknown {
  let v = root;
  for (const step of path) v = (v as Record<PathStep, unknown>)[step];
  return v;
}

function put(root: unknown, path: readonly PathStep[], value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = valueAt(root, path.slice(0, -1)) as Record<PathStep, unknown>;
  parent[path[path.length - 1]!] = value;
  return root;
}

/** Render a path for error messages: args[1].options.cb */
export function formatPath(root: string, path: readonly PathStep[]): string {
  let s = root;
  for (const step of path) s += typeof step === 'number' ? `[${step}]` : /^[A-Za-z_$][\w$]*$/.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
  return s;
}

function addRef(st: WalkState, r: [number, number, RefKindCode, number]): null {
  (st.refs ??= []).push([st.path.slice(), r[0], r[1], r[2], r[3]]);
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
    if (state) return addRef(st, st.space.marshalProxy(state, st.peer));
    return addRef(st, st.space.exportLocal(v as object, RefKind.Function, st.peer));
  }
  if (t !== 'object') return v;
  const obj = v as object;
  const state = (obj as { [REMOTE_STATE]?: RemoteState })[REMOTE_STATE];
  if (state) return addRef(st, st.space.marshalProxy(state, st.peer));
  const custom = (obj as { [CUSTOM_MARSHAL]?: () => CustomMarshaled })[CUSTOM_MARSHAL];
  if (typeof custom === 'function') return walkByValue(custom.call(obj), st);
  const moved = takeTransferList(obj);
  if (moved) (st.transfer ??= []).push(...moved);
  if (Array.isArray(obj)) return walkArray(obj, st);
  const proto = Object.getPrototypeOf(obj) as object | null;
  if (isByRefObject(obj, proto)) return addRef(st, st.space.exportLocal(obj, RefKind.Object, st.peer));
  // Async iterables and web streams travel as streams (streams.ts), by reference to their producer.
  const streamed = marshalStream(obj);
  if (streamed) return walkByValue(streamed, st);
  if (proto === Object.prototype || proto === null) return walkPlain(obj as Record<string, unknown>, st);
  if (obj instanceof Promise) {
    const where = formatPath(st.root, st.path);
    throw new MarshalError(`[marshal] ${where} is a Promise; await it before passing the value`, { path: where });
  }
  if (obj instanceof WeakMap || obj instanceof WeakSet || obj instanceof WeakRef) {
    const where = formatPath(st.root, st.path);
    throw new MarshalError(`[marshal] ${where} is a ${obj.constructor.name}, which cannot be copied; pass its contents or wrap the owner with byRef()`, { path: where });
  }
  return v;
}

function walkByValue({ key, payload }: CustomMarshaled, st: WalkState): unknown {
  // References inside the payload are recorded first, so they are resolved before the rebuild.
  st.path.push('p');
  const p = walk(payload, st);
  st.path.pop();
  (st.refs ??= []).push([st.path.slice(), 0, 0, RefKind.Value, 0]);
  return { k: key, p };
}

function enter(obj: object, st: WalkState): boolean {
  const seen = (st.seen ??= new Set());
  if (seen.has(obj)) return false;
  seen.add(obj);
  return true;
}

function walkArray(arr: unknown[], st: WalkState): unknown[] {
  if (st.path.length > 0 && !enter(arr, st)) return arr;
  let out: unknown[] | undefined;
  for (let i = 0; i < arr.length; i++) {
    const item = arr[i];
    if (item === null || (typeof item !== 'object' && typeof item !== 'function' && typeof item !== 'symbol')) {
      if (out) out[i] = item;
      continue;
    }
    st.path.push(i);
    const enc = walk(item, st);
    st.path.pop();
    if (enc !== item && !out) out = arr.slice(0, i);
    if (out) out[i] = enc;
  }
  return out ?? arr;
}

function walkPlain(obj: Record<string, unknown>, st: WalkState): unknown {
  if (!enter(obj, st)) return obj;
  let out: Record<string, unknown> | undefined;
  const keys = Object.keys(obj);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const item = obj[k];
    if (item === null || (typeof item !== 'object' && typeof item !== 'function' && typeof item !== 'symbol')) {
      if (out) out[k] = item;
      continue;
    }
    st.path.push(k);
    const enc = walk(item, st);
    st.path.pop();
    if (enc !== item && !out) {
      out = Object.getPrototypeOf(obj) === null ? Object.create(null) as Record<string, unknown> : {};
      for (let j = 0; j < i; j++) out[keys[j]!] = obj[keys[j]!];
    }
    if (out) out[k] = enc;
  }
  return out ?? obj;
}

/**
 * After a failed clone, find where in `value` the first uncloneable part is (error path only:
 * it clones sub-values one by one). Returns the path, or undefined when the whole value clones.
 */
export function findUncloneable(value: unknown, path: PathStep[] = []): { path: PathStep[]; reason: string } | undefined {
  try {
    structuredClone(value);
    return undefined;
  } catch (err) {
    if (value !== null && typeof value === 'object') {
      const entries: [PathStep, unknown][] = Array.isArray(value)
        ? value.map((x, i) => [i, x] as [PathStep, unknown])
        : Object.keys(value).map((k) => [k, (value as Record<string, unknown>)[k]] as [PathStep, unknown]);
      for (const [k, child] of entries) {
        const found = findUncloneable(child, [...path, k]);
        if (found) return found;
      }
    }
    return { path, reason: (err as Error).message };
  }
}
