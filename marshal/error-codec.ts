// Errors cross apartments as data (name, message, remote stack, code, cause, cloneable own
// properties) and are rebuilt from a null-prototype table of known classes, never looked up by
// name on globalThis: a hostile name cannot select an arbitrary constructor.
import { errorClasses } from './errors.js';
import type { WireError } from './protocol.js';

const RESERVED = new Set(['name', 'message', 'stack', 'code', 'cause']);
const MAX_CAUSE_DEPTH = 8;

function isCloneable(value: unknown): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return typeof value !== 'symbol';
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** Turn anything thrown into its wire form; `apartment` is where it was thrown. */
export function encodeError(thrown: unknown, apartment: number, depth = 0): WireError {
  if (!(thrown instanceof Error)) {
    const text = typeof thrown === 'string' ? thrown : safeString(thrown);
    return { name: 'Error', message: text, stack: undefined, code: undefined, cause: undefined, props: { thrownValue: isCloneable(thrown) ? thrown : text }, apartment };
  }
  let props: Record<string, unknown> | undefined;
  for (const key of Object.keys(thrown)) {
    if (RESERVED.has(key)) continue;
    const v = (thrown as unknown as Record<string, unknown>)[key];
    if (isCloneable(v)) (props ??= {})[key] = v;
  }
  const code = (thrown as { code?: unknown }).code;
  const cause = (thrown as { cause?: unknown }).cause;
  return {
    name: thrown.name,
    message: thrown.message,
    stack: thrown.stack,
    code: typeof code === 'string' ? code : undefined,
    cause: cause !== undefined && depth < MAX_CAUSE_DEPTH ? encodeError(cause, apartment, depth + 1) : undefined,
    props,
    apartment,
  };
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
    return Object.prototype.toString.call(value);
  }
}
