// What a value already built weighs on the heap of the thread that holds it, estimated from above
// at the costs frame-weight.ts charges for what a frame builds. Why a walk of the value and not
// frame-weight's walk of v8.serialize(value): a value that arrived from a peer may hold what a
// frame cannot (references, which arrive as functions and proxies, and shared memory), and
// v8.serialize refuses those. For what a thread keeps for good on a peer's say (a once() value),
// so the walk stops as soon as the value passes its budget: weighing costs at most that many steps
// whatever the value's size. No proxy trap runs; a value from a peer is a copy, with no getters.
import * as types from 'node:util/types';
import { ARRAY, BINARY, BOXED, COLLECTION_ENTRY, DICTIONARY_ENTRY, FAST_PROPERTIES, NUMBER, OBJECT, PROPERTY, SLOT, STRING, VIEW } from './transports/frame-weight.js';

/**
 * The heap `value` holds, in bytes, estimated from above: each object once (a second reference to
 * it costs a slot), each string every place it appears (as a copy of the value holds it), binary
 * data and shared memory by their whole buffers (a view keeps its buffer alive). A reference (a
 * function or a proxy) costs its handle: what it names lives elsewhere. Returns a number past
 * `budget` as soon as the count passes it, not the whole weight.
 */
export function keptBytes(value: unknown, budget: number): number {
  const seen = new Set<object>();
  const pending: unknown[] = [value];
  let bytes = 0;
  while (pending.length > 0 && bytes <= budget) {
    const v = pending.pop();
    if (typeof v === 'string') bytes += stringBytes(v, budget - bytes);
    else if (typeof v === 'number') bytes += v === (v | 0) ? 0 : NUMBER;
    else if (typeof v === 'bigint') bytes += bigintBytes(v);
    else if ((typeof v === 'object' && v !== null) || typeof v === 'function') {
      if (seen.has(v)) continue;
      seen.add(v);
      bytes += objectBytes(v, pending, budget - bytes);
    }
  }
  return bytes;
}

/** A string's characters, two bytes each when one of them needs two (read only when within `left`). */
function stringBytes(s: string, left: number): number {
  const oneByte = STRING + s.length;
  if (oneByte > left) return oneByte;
  return /[^\0-\xff]/.test(s) ? STRING + 2 * s.length : oneByte;
}

/** A bigint's digits, from above (its magnitude found by doubling shifts: no string of its digits is built). */
function bigintBytes(v: bigint): number {
  const magnitude = v < 0n ? -v : v;
  let bits = 64;
  while (magnitude >> BigInt(bits) > 0n) bits *= 2;
  return STRING + bits / 8;
}

/**
 * What `obj` itself costs; what it holds goes onto `pending`. A container whose own size already
 * passes `left` is not entered, so its contents are never listed.
 */
function objectBytes(obj: object, pending: unknown[], left: number): number {
  // A reference, entered no further: a proxy's traps would run, and a function's code is not the value's.
  if (typeof obj === 'function' || types.isProxy(obj)) return OBJECT;
  if (types.isAnyArrayBuffer(obj)) return BINARY + obj.byteLength;
  if (ArrayBuffer.isView(obj)) {
    pending.push(obj.buffer);
    return VIEW;
  }
  if (types.isMap(obj) || types.isSet(obj)) {
    const cost = BOXED + COLLECTION_ENTRY * obj.size;
    if (cost > left) return cost;
    if (types.isMap(obj)) (obj as Map<unknown, unknown>).forEach((v, k) => pending.push(k, v));
    else (obj as Set<unknown>).forEach((v) => pending.push(v));
    return cost;
  }
  if (types.isBoxedPrimitive(obj)) {
    if (types.isStringObject(obj)) pending.push(String.prototype.valueOf.call(obj));
    else if (types.isBigIntObject(obj)) pending.push(BigInt.prototype.valueOf.call(obj));
    return BOXED;
  }
  if (types.isRegExp(obj)) {
    pending.push((obj as RegExp).source);
    return BOXED;
  }
  if (types.isDate(obj)) return BOXED;
  let cost = OBJECT;
  if (types.isNativeError(obj)) {
    // Not enumerable, yet a copy carries them. Read from their descriptors: no getter runs.
    for (const key of ['message', 'stack', 'cause']) pending.push(Object.getOwnPropertyDescriptor(obj, key)?.value);
    cost += BOXED;
  }
  // A sparse array is weighed by its length too: listing only its elements would take Object.keys,
  // which for a dense one builds a key per element. One that long is refused, not walked.
  const length = Array.isArray(obj) ? obj.length : 0;
  if (Array.isArray(obj)) cost = ARRAY + SLOT * length;
  if (cost > left) return cost;
  const keys = Object.keys(obj);
  // An array's element slots are counted above; properties past them are slots of their own.
  const properties = Math.max(0, keys.length - length);
  cost += properties > FAST_PROPERTIES ? FAST_PROPERTIES * PROPERTY + (properties - FAST_PROPERTIES) * DICTIONARY_ENTRY : properties * PROPERTY;
  for (const key of keys) {
    cost += key.length;
    if (cost > left) return cost;
    pending.push((obj as Record<string, unknown>)[key]);
  }
  return cost;
}
