// How much string data a value becomes once copied. Structured clone keeps each object once (a
// second reference to it arrives as a reference), but copies a string every place it appears:
// 6000 references to one 1 MiB string are 48 KB in the sender's heap and 6 GiB in the receiver's,
// which a worker's buggy plugin returning them made the host process abort on (out of memory,
// deserializing the port message). The codec counts the strings a value holds as it walks it and
// refuses one past MAX_COPIED_CHARS before it is sent; this module counts inside Maps and Sets,
// which the codec's walk does not enter, and weighs what an error carries (error-codec.ts).
import * as types from 'node:util/types';
import { MarshalError, TOO_LARGE } from './errors.js';
import { enumerableInObjectPrototype } from './plain-keys.js';

/** The most characters of strings one value may hold, counted each place they appear: V8's longest string fits. */
export const MAX_COPIED_CHARS = 2 ** 29;

/**
 * Characters of the strings in `value` and in the objects it holds (arrays, plain objects, class
 * instances, objects of other realms, Maps, Sets, an error's message), each counted where it
 * appears; objects in `seen` are not entered again (they are copied once), and those entered are
 * added to it (`value` itself is entered even when it is there already). Stops counting at the
 * first string that takes the count past `budget`. Binary data and dates hold no strings.
 */
export function copiedChars(value: unknown, budget: number, seen: Set<object> = new Set()): number {
  if (typeof value === 'string') return value.length;
  if (value === null || typeof value !== 'object') return 0;
  let chars = 0;
  const pending: object[] = [value];
  seen.add(value);
  // Plain objects' keys are read with for-in (plain-keys.ts), own ones only while Object.prototype has an enumerable key.
  const inherited = enumerableInObjectPrototype();
  const count = (item: unknown): void => {
    if (typeof item === 'string') {
      // Thrown, not returned: a Map's or Set's forEach cannot be left otherwise.
      if ((chars += item.length) > budget) throw OVER_BUDGET;
    } else if (item !== null && typeof item === 'object') {
      // A small object of numbers and the like adds nothing, wherever and however often it
      // appears: it is left out of `seen`, whose lookup cost more than the whole count of a
      // Map's 5 000 `{ i }` values. A repeat costs at most FLAT_KEYS reads.
      if (holdsNothing(item, inherited)) return;
      // One lookup, not has() then add(): this runs for every object inside a Map or Set.
      const before = seen.size;
      if (seen.add(item).size !== before) pending.push(item);
    }
  };
  const entry = (v: unknown, k: unknown): void => {
    count(k);
    count(v);
  };
  try {
    while (pending.length > 0) {
      const obj = pending.pop()!;
      // This realm's plain objects and arrays first, the usual content of a Map or Set, with two or
      // three checks rather than the seven below (a Proxy is asked first, so no trap of it runs).
      if (!types.isProxy(obj) && Object.getPrototypeOf(obj) === Object.prototype) {
        for (const k in obj) if (!inherited || Object.hasOwn(obj, k)) count((obj as Record<string, unknown>)[k]);
        continue;
      }
      if (Array.isArray(obj) && !types.isProxy(obj)) {
        for (const k of Object.keys(obj)) count((obj as unknown as Record<string, unknown>)[k]);
        continue;
      }
      // Cross-realm safe tests: a value made in a vm context has that realm's prototypes. forEach,
      // not for-of: no entry array per item of a Map.
      if (types.isMap(obj)) (obj as Map<unknown, unknown>).forEach(entry);
      else if (types.isSet(obj)) (obj as Set<unknown>).forEach(count);
      else if (!holdsNoStrings(obj)) {
        // Arrays, plain objects and class instances alike: a copy carries their own enumerable
        // properties (a Proxy is refused by the copy itself, and its traps are not run here).
        if (types.isNativeError(obj)) count(Object.getOwnPropertyDescriptor(obj, 'message')?.value);
        for (const k of Object.keys(obj)) count((obj as Record<string, unknown>)[k]);
      }
    }
  } catch (err) {
    if (err !== OVER_BUDGET) throw err;
  }
  return chars;
}

/** Thrown by a count that went past its budget, and caught where the count began. */
const OVER_BUDGET = Symbol('over-budget');

/** The most keys of an object holdsNothing() looks through. */
const FLAT_KEYS = 8;

/**
 * Whether `obj` is this realm's plain object of at most FLAT_KEYS own enumerable properties, none
 * a string or an object: a copy of it carries no strings, and it holds nothing a count must enter.
 * A Proxy is asked first, so none of its traps run. `inherited`: Object.prototype has an enumerable key.
 */
function holdsNothing(obj: object, inherited: boolean): boolean {
  if (types.isProxy(obj) || Object.getPrototypeOf(obj) !== Object.prototype) return false;
  let read = 0;
  for (const k in obj) {
    if (inherited && !Object.hasOwn(obj, k)) continue;
    if (++read > FLAT_KEYS) return false;
    const v = (obj as Record<string, unknown>)[k];
    if (typeof v === 'string' || (v !== null && typeof v === 'object')) return false;
  }
  return true;
}

/**
 * Whether a copy of `obj` carries no strings of its own properties: binary data and dates, and a
 * Proxy, which the copy refuses (its traps are not run here). Cross-realm safe.
 */
export function holdsNoStrings(obj: object): boolean {
  return ArrayBuffer.isView(obj) || types.isAnyArrayBuffer(obj) || types.isDate(obj) || types.isProxy(obj);
}

/** The error of a value at `where` whose strings, counted each place they appear, pass MAX_COPIED_CHARS. */
export function tooManyChars(where: string): MarshalError {
  return new MarshalError(`${TOO_LARGE} ${where} is too large to send: its strings come to more than ${MAX_COPIED_CHARS} characters, counting each string every place it appears (a copy repeats it there); send one copy and indexes into it, fewer items, or a stream`, { path: where });
}
