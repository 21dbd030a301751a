// Checks for the arguments of control methods, which come from untrusted peers: each returns the
// value typed, or throws InvalidArgumentError naming the parameter.
import { InvalidArgumentError } from '../marshal/errors.js';

function bad(name: string, expected: string, got: unknown): InvalidArgumentError {
  const seen = got === null ? 'null' : Array.isArray(got) ? 'an array' : typeof got;
  return new InvalidArgumentError(`[control-args] ${name} must be ${expected}; got ${seen}`, { parameter: name });
}

/** A safe integer ≥ 0 (ids, counts). */
export function id(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw bad(name, 'a whole number ≥ 0', value);
  return value;
}

/** A string of at most `max` characters (default 4096). */
export function text(value: unknown, name: string, max = 4096): string {
  if (typeof value !== 'string') throw bad(name, 'a string', value);
  if (value.length > max) throw new InvalidArgumentError(`[control-args] ${name} is ${value.length} characters long; at most ${max} are accepted`, { parameter: name });
  return value;
}

/** A non-empty string of at most `max` characters. */
export function name(value: unknown, param: string, max = 1024): string {
  const s = text(value, param, max);
  if (s.length === 0) throw bad(param, 'a non-empty string', value);
  return s;
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(value: unknown, param: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw bad(param, `one of ${allowed.join(', ')}`, value);
  return value as T;
}

/** An array of at most `max` items. */
export function list(value: unknown, param: string, max = 10_000): unknown[] {
  if (!Array.isArray(value)) throw bad(param, 'an array', value);
  if (value.length > max) throw new InvalidArgumentError(`[control-args] ${param} has ${value.length} items; at most ${max} are accepted`, { parameter: param });
  return value;
}

/** A non-null object (not an array). */
export function record(value: unknown, param: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(param, 'an object', value);
  return value as Record<string, unknown>;
}

/** No arguments at all. */
export function none(args: unknown[]): [] {
  if (args.length > 0) throw new InvalidArgumentError(`[control-args] this method takes no arguments; got ${args.length}`);
  return [];
}
