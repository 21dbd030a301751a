// What generated argument checks call at run time. The checks themselves are generated code, one
// function per type (lib/cli/emit-checks.ts): each returns true or false and, only when a report
// is passed, records where and why a value failed. The stub runs them without a report (no
// allocation, no strings); on failure it runs them again with one, to build the message.
import * as types from 'node:util/types';
// Imported by another name: a bundle reads `types.isTypedArray` as a top-level binding of that name.
import { isTypedArray as isAnyTypedArray } from 'node:util/types';
import { InvalidArgumentError, NoInterfaceError } from './errors.js';
import { byRef } from './by-ref.js';
import { memberLabel, type InterfaceManifest, type ParamSpec } from './interface-manifest.js';
import { isProxy } from './proxy.js';
import { findMethod } from './stub.js';
import { isWebReadable, isWebWritable } from './web-streams.js';

/** Where a value failed its check: filled from the failing leaf outwards. */
export class CheckReport {
  /** Path segments below the argument, outermost first (`.textDocument`, `.version`). */
  readonly path: string[] = [];
  /** Which argument failed (its index in the call). */
  arg = -1;
  expected: string | undefined;
  got = '';
  hint = '';
  arity: { min: number; max: number; got: number } | undefined;
  /** For an overloaded member: the overload the report is about. */
  overload = 0;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** A value as error messages describe it: its kind, or its class for objects that have one. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  if (t === 'function') return isProxy(v) ? 'a function proxy' : 'function';
  if (t !== 'object') return t;
  if (isProxy(v)) return 'a proxy';
  const proto = Object.getPrototypeOf(v) as object | null;
  if (proto === null || proto === Object.prototype) return 'object';
  // Read the constructor's name without running any getter of the caller's object.
  const ctor = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value as unknown;
  const name = typeof ctor === 'function' ? Object.getOwnPropertyDescriptor(ctor, 'name')?.value : undefined;
  return typeof name === 'string' && name !== '' ? name : 'object';
}

/** Record that `value` is not `expected` (at the innermost failing level). Always false. */
export function fail(r: CheckReport | undefined, expected: string, value: unknown): false {
  if (r !== undefined && r.expected === undefined) {
    r.expected = expected;
    r.got = describeValue(value);
  }
  return false;
}

/** Like fail(), for a by-reference interface: says how to pass one. */
export function failRemote(r: CheckReport | undefined, iface: string, methods: readonly string[], value: unknown): false {
  if (r !== undefined && r.expected === undefined) {
    r.hint = `; pass a proxy of a ${iface}, or send your own object with byRef() (it needs the methods ${methods.join(', ')})`;
  }
  return fail(r, `remote ${iface}`, value);
}

/** Prefix the failure's path with a property name or an element index. Always false. */
export function at(r: CheckReport | undefined, key: string | number): false {
  if (r !== undefined) r.path.unshift(typeof key === 'number' ? `[${key}]` : IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
  return false;
}

/** Prefix the failure's path with a Map entry or a Set element. Always false. */
export function atEntry(r: CheckReport | undefined, what: 'key' | 'value' | 'element', key: unknown, index: number): false {
  if (r !== undefined) {
    const shown = typeof key === 'string' || typeof key === 'number' ? JSON.stringify(key) : `#${index}`;
    r.path.unshift(what === 'key' ? `.keys()[${index}]` : what === 'value' ? `.get(${shown})` : `.values()[${index}]`);
  }
  return false;
}

/** The failure is in argument `index`. Always false. */
export function arg(r: CheckReport | undefined, index: number): false {
  if (r !== undefined) r.arg = index;
  return false;
}

/** The call has too few or too many arguments. Always false. */
export function arity(r: CheckReport | undefined, min: number, max: number, got: number): false {
  if (r !== undefined) r.arity = { min, max, got };
  return false;
}

/** The arguments check of an overloaded member: any overload may accept the call. */
export function anyOverload(a: unknown[], r: CheckReport | undefined, checks: readonly ((a: unknown[], r?: CheckReport) => boolean)[]): boolean {
  for (const check of checks) if (check(a)) return true;
  if (r === undefined) return false;
  // Explain with the overload that got furthest: a right arity first, then the later argument, then the deeper path.
  let best: CheckReport | undefined;
  checks.forEach((check, i) => {
    const mine = new CheckReport();
    mine.overload = i;
    check(a, mine);
    const score = (x: CheckReport): number => (x.arity || x.arg < 0 ? -1 : x.arg * 1_000 + x.path.length);
    if (!best || score(mine) > score(best)) best = mine;
  });
  r.path.push(...best!.path);
  r.arg = best!.arg;
  r.expected = best!.expected;
  r.got = best!.got;
  r.hint = best!.hint;
  r.arity = best!.arity;
  r.overload = best!.overload;
  return false;
}

/** A proxy, or (in a call within one apartment) an object offering each method as a method. */
export function isRemote(value: unknown, methods: readonly string[]): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  if (isProxy(value)) return true;
  for (const m of methods) if (findMethod(value, m) === undefined) return false;
  return true;
}

export { isProxy };
export const isDate = types.isDate;
export const isRegExp = types.isRegExp;
export const isMap = types.isMap;
export const isSet = types.isSet;
export const isArrayBuffer = types.isArrayBuffer;
export const isSharedArrayBuffer = types.isSharedArrayBuffer;
export const isDataView = types.isDataView;

/** An Error of any class (errors are copied across apartments as errors). */
export function isError(value: unknown): boolean {
  return types.isNativeError(value) || value instanceof Error;
}

/** A typed array of the named class (`Uint8Array`…), whichever realm made it. */
export function isTypedArray(value: unknown, name: string): boolean {
  return isAnyTypedArray(value) && Object.prototype.toString.call(value) === `[object ${name}]`;
}

/** Bytes for a parameter declared Buffer: a Buffer, or a Uint8Array (what a Buffer becomes when copied). */
export function isBytes(value: unknown): value is Uint8Array {
  return types.isUint8Array(value);
}

/** A Buffer over the same memory as `bytes` (copying across apartments turns a Buffer into a Uint8Array). */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Something `for await…of` can walk: an async iterable (an async generator, a stream's RemoteIterator, a ReadableStream). */
export function isAsyncIterable(value: unknown): boolean {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/** A web ReadableStream (one that crossed apartments arrives as one). */
export function isReadableStream(value: unknown): boolean {
  return isWebReadable(value);
}

/** A web WritableStream (one that crossed apartments arrives as one). */
export function isWritableStream(value: unknown): boolean {
  return isWebWritable(value);
}

/** Something `for…of` can walk (an array, Set, Map or typed array once copied; a string too, unless `strings` is false). */
export function isIterable(value: unknown, strings = true): boolean {
  return (strings && typeof value === 'string') || (value !== null && typeof value === 'object' && typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function');
}

/**
 * A result whose declared type has only methods is useless as a copy (a class instance would arrive
 * as an empty object): send it by reference, so the caller gets a proxy.
 */
export function byRefResult(result: unknown): unknown {
  if (result instanceof Promise) return result.then(byRefResult);
  if (result !== null && typeof result === 'object' && !isProxy(result)) byRef(result);
  return result;
}

/** A member declared to return the object itself: nothing is sent back (the proxy resolves to itself). */
export function discardResult(result: unknown): unknown {
  return result instanceof Promise ? result.then(() => undefined) : undefined;
}

const NOT_AN_ENTRY = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Read entry `key` of an object with an index signature: an own data property only, never a method,
 * an accessor or anything inherited (a caller must not reach the object's internals through keys).
 */
export function readEntry(target: object, key: string | number): unknown {
  if (NOT_AN_ENTRY.has(String(key))) return undefined;
  const d = Object.getOwnPropertyDescriptor(target, key);
  return d && 'value' in d && typeof d.value !== 'function' ? d.value : undefined;
}

/** Write entry `key`: only a key that is absent or an own data property that is not a method. */
export function writeEntry(target: object, key: string | number, value: unknown): void {
  const d = Object.getOwnPropertyDescriptor(target, key);
  if (NOT_AN_ENTRY.has(String(key)) || (d ? !('value' in d) || typeof d.value === 'function' : key in target)) {
    throw new InvalidArgumentError(`[bad-argument] '${String(key)}' is not an entry of this object (it is a method, an accessor or inherited); choose another key`, { parameter: 'key' });
  }
  (target as Record<string | number, unknown>)[key] = value;
}

/** An optional member the object does not implement. */
export function notImplemented(manifest: InterfaceManifest, index: number): never {
  const member = manifest.members[index]!;
  throw new NoInterfaceError(`[not-implemented] ${manifest.name}.${memberLabel(member)} is optional and this object does not implement it; check for it before calling, or implement it`);
}

/** Throw the InvalidArgumentError a failed check stands for: run `check` again with a report. */
export function refuse(manifest: InterfaceManifest, index: number, args: unknown[], check: (a: unknown[], r?: CheckReport) => boolean): never {
  const member = manifest.members[index]!;
  const r = new CheckReport();
  check(args, r);
  const params = r.overload === 0 ? member.params : member.overloads?.[r.overload - 1] ?? member.params;
  const where = `${manifest.name}.${memberLabel(member)}`;
  if (r.arity) {
    const { min, max, got } = r.arity;
    const takes = max === Infinity ? `at least ${min}` : min === max ? `${min}` : `${min}–${max}`;
    throw new InvalidArgumentError(`[arity] ${where} takes ${takes} argument(s), got ${got}`, { parameter: params[Math.min(got, params.length - 1)]?.name ?? '(none)' });
  }
  const param = paramAt(params, r.arg);
  const path = `args[${r.arg}]${r.path.join('')}`;
  throw new InvalidArgumentError(`[bad-argument] ${where}: ${path}: expected ${r.expected ?? 'a valid value'}, got ${r.got}${r.hint} (parameter '${param?.name ?? '?'}')`, { parameter: param?.name ?? '(none)' });
}

function paramAt(params: readonly ParamSpec[], index: number): ParamSpec | undefined {
  const last = params.at(-1);
  return index >= params.length - 1 && last?.rest ? last : params[index];
}

