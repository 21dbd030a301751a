// How much string data a value becomes once copied. Structured clone keeps each object once (a
// second reference to it arrives as a reference), but copies a string every place it appears:
// 6000 references to one 1 MiB string are 48 KB in the sender's heap and 6 GiB in the receiver's,
// which a worker's buggy plugin returning them made the host process abort on (out of memory,
// deserializing the port message). The codec counts the strings a value holds as it walks it and
// refuses one past MAX_COPIED_CHARS before it is sent; this module counts inside Maps and Sets,
// which the codec's walk does not enter, and weighs what an error carries (error-codec.ts).
import * as types from 'node:util/types';
import { MarshalError, TOO_LARGE } from './errors.js';

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
  const count = (item: unknown): void => {
    if (typeof item === 'string') chars += item.length;
    else if (item !== null && typeof item === 'object') {
      // One lookup, not has() then add(): this runs for every object inside a Map or Set.
      const before = seen.size;
      if (seen.add(item).size !== before) pending.push(item);
    }
  };
  while (pending.length > 0) {
    const obj = pending.pop()!;
    // This realm's plain objects first, the usual content of a Map or Set, with two checks rather
    // than the seven below (a Proxy is asked first, so its getPrototypeOf trap is not run).
    if (!types.isProxy(obj) && Object.getPrototypeOf(obj) === Object.prototype) {
      for (const k of Object.keys(obj)) {
        count((obj as Record<string, unknown>)[k]);
        if (chars > budget) return chars;
      }
      continue;
    }
    // Cross-realm safe tests: a value made in a vm context has that realm's prototypes.
    if (types.isMap(obj)) {
      for (const [k, v] of obj as Map<unknown, unknown>) {
        count(k);
        count(v);
        if (chars > budget) return chars;
      }
    } else if (types.isSet(obj)) {
      for (const v of obj as Set<unknown>) {
        count(v);
        if (chars > budget) return chars;
      }
    } else if (!holdsNoStrings(obj)) {
      // Arrays, plain objects and class instances alike: a copy carries their own enumerable
      // properties (a Proxy is refused by the copy itself, and its traps are not run here).
      if (types.isNativeError(obj)) count(Object.getOwnPropertyDescriptor(obj, 'message')?.value);
      for (const k of Object.keys(obj)) {
        count((obj as Record<string, unknown>)[k]);
        if (chars > budget) return chars;
      }
    }
  }
  return chars;
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
