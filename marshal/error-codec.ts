// Errors cross apartments as data (name, message, remote stack, code, cause, cloneable own
// properties) and are rebuilt from a null-prototype table of known classes, never looked up by
// name on globalThis: a hostile name cannot select an arbitrary constructor. Encoding never
// throws: a thrown value whose getters or proxy traps throw is reduced to a safe error (its class
// name and message when they can be read without running its code), so every call is answered.
// What an error carries is bounded, as a result is (copy-weight.ts): its texts are clipped, and a
// property that copying would make large is left out, since a cause chain repeats what it holds.
import { copiedChars } from './copy-weight.js';
import { errorClasses } from './errors.js';
import type { WireError } from './protocol.js';

const RESERVED = new Set(['name', 'message', 'stack', 'code', 'cause']);
const MAX_CAUSE_DEPTH = 8;
/** The longest name, message or stack an error carries; longer ones are clipped. */
export const MAX_ERROR_TEXT = 1 << 20;
/** The most characters of strings an error's own properties carry together, counted as copy-weight.ts counts. */
export const MAX_ERROR_PROP_CHARS = 1 << 22;

/** `text` cut to MAX_ERROR_TEXT characters, saying so. */
function clipped(text: string): string {
  return text.length <= MAX_ERROR_TEXT ? text : `${text.slice(0, MAX_ERROR_TEXT)}… (${text.length - MAX_ERROR_TEXT} more characters clipped)`;
}

/** Whether `value` can be copied, and what it costs in copied characters (Infinity when it cannot be, or passes `budget`). */
function copyCost(value: unknown, budget: number): number {
  let chars: number;
  try {
    chars = copiedChars(value, budget);
  } catch {
    return Infinity; // a getter or proxy trap inside it threw, as cloning it would
  }
  return chars <= budget && isCloneable(value) ? chars : Infinity;
}

function isCloneable(value: unknown): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return typeof value !== 'symbol';
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** Turn anything thrown into its wire form; `apartment` is where it was thrown. Never throws. */
export function encodeError(thrown: unknown, apartment: number, depth = 0): WireError {
  try {
    return encodeFaithfully(thrown, apartment, depth);
  } catch {
    return reducedError(thrown, apartment);
  }
}

function encodeFaithfully(thrown: unknown, apartment: number, depth: number): WireError {
  if (!(thrown instanceof Error)) {
    const text = clipped(typeof thrown === 'string' ? thrown : safeString(thrown));
    return { name: 'Error', message: text, stack: undefined, code: undefined, cause: undefined, props: { thrownValue: copyCost(thrown, MAX_ERROR_PROP_CHARS) < Infinity ? thrown : text }, apartment };
  }
  let props: Record<string, unknown> | undefined;
  let budget = MAX_ERROR_PROP_CHARS;
  for (const key of Object.keys(thrown)) {
    if (RESERVED.has(key)) continue;
    let v: unknown;
    try {
      v = (thrown as unknown as Record<string, unknown>)[key];
    } catch {
      continue; // a getter that throws: the property is left out, the error still travels
    }
    // One that cannot be copied, or would pass what is left of the budget, is left out.
    const cost = copyCost(v, budget);
    if (cost === Infinity) continue;
    budget -= cost;
    (props ??= {})[key] = v;
  }
  const { name, message } = thrown;
  // Anything but strings here would not survive the receiver's checks: reduce instead.
  if (typeof name !== 'string' || typeof message !== 'string') return reducedError(thrown, apartment);
  const stack = thrown.stack;
  const code = (thrown as { code?: unknown }).code;
  const cause = (thrown as { cause?: unknown }).cause;
  return {
    name: clipped(name),
    message: clipped(message),
    stack: typeof stack === 'string' ? clipped(stack) : undefined,
    code: typeof code === 'string' ? clipped(code) : undefined,
    cause: cause !== undefined && depth < MAX_CAUSE_DEPTH ? encodeError(cause, apartment, depth + 1) : undefined,
    props,
    apartment,
  };
}

/**
 * The safe stand-in for a thrown value that could not be encoded: its class name and message, read
 * only from data properties (no getter or proxy trap runs, and a trap that throws is skipped).
 */
function reducedError(thrown: unknown, apartment: number): WireError {
  const className = safeClassName(thrown);
  const message = dataString(thrown, 'message');
  const text = `[unserializable-error] a thrown ${className} could not be sent to the caller (its properties throw when read)${message !== undefined ? `: ${clipped(message)}` : ''}; throw plain Error objects`;
  return { name: 'Error', message: text, stack: undefined, code: undefined, cause: undefined, props: { thrownClass: className }, apartment };
}

/** A short description of anything thrown, for log lines; never throws and runs no getter. */
export function describeThrown(thrown: unknown): string {
  if (typeof thrown === 'string') return thrown;
  if (thrown === null || (typeof thrown !== 'object' && typeof thrown !== 'function')) return typeof thrown === 'symbol' ? 'a symbol' : String(thrown);
  const message = dataString(thrown, 'message');
  return message !== undefined ? `${safeClassName(thrown)}: ${message}` : `a thrown ${safeClassName(thrown)}`;
}

function safeClassName(value: unknown): string {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return typeof value;
  try {
    let proto: unknown = Object.getPrototypeOf(value);
    for (let i = 0; proto !== null && i < 32; i++) {
      const ctor = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value as unknown;
      if (typeof ctor === 'function') {
        const name = Object.getOwnPropertyDescriptor(ctor, 'name')?.value as unknown;
        if (typeof name === 'string' && name.length > 0) return name.slice(0, 200);
      }
      proto = Object.getPrototypeOf(proto);
    }
  } catch {
    // a proxy whose traps throw
  }
  return 'object';
}

function dataString(value: unknown, key: string): string | undefined {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  try {
    const found = Object.getOwnPropertyDescriptor(value, key)?.value as unknown;
    return typeof found === 'string' ? found.slice(0, 4_096) : undefined;
  } catch {
    return undefined;
  }
}

/** Rebuild an error from its wire form; known classes keep `instanceof`, others become Error. */
export function decodeError(wire: WireError): Error {
  const cls = errorClasses[wire.name] ?? Error;
  const err = Object.create(cls.prototype as object) as Error & Record<string, unknown>;
  Object.defineProperty(err, 'message', { value: String(wire.message), writable: true, configurable: true });
  if (!(wire.name in errorClasses)) Object.defineProperty(err, 'name', { value: String(wire.name), writable: true, configurable: true });
  const stack = typeof wire.stack === 'string' ? wire.stack : `${wire.name}: ${wire.message}`;
  Object.defineProperty(err, 'stack', {
    value: `${stack}\n    --- thrown in apartment ${wire.apartment} ---`,
    writable: true,
    configurable: true,
  });
  if (wire.code !== undefined) Object.defineProperty(err, 'code', { value: wire.code, writable: true, enumerable: true, configurable: true });
  if (wire.cause !== undefined) Object.defineProperty(err, 'cause', { value: decodeError(wire.cause), writable: true, configurable: true });
  if (wire.props) {
    for (const [k, v] of Object.entries(wire.props)) {
      if (k === '__proto__' || k === 'constructor') continue;
      err[k] = v;
    }
  }
  return err;
}

/** Whether a value received from a peer has the shape of a WireError. */
export function isWireError(value: unknown, depth = 0): value is WireError {
  if (value === null || typeof value !== 'object' || depth > MAX_CAUSE_DEPTH) return false;
  const w = value as Partial<WireError>;
  return typeof w.name === 'string' && typeof w.message === 'string' && typeof w.apartment === 'number'
    && (w.props === undefined || (w.props !== null && typeof w.props === 'object'))
    && (w.cause === undefined || isWireError(w.cause, depth + 1));
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return describeThrown(value);
  }
}
