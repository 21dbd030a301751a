// Why a value could not be cloned, and where in it: the error path of a send whose clone failed
// (channel.ts). It reads the caller's value a second time, so it runs the caller's getters and
// proxy traps again, and must never throw because of them.
import { formatPath } from './codec.js';
import { describeThrown } from './error-codec.js';
import { CallRejectedError, MarshalError, TOO_LARGE } from './errors.js';
import type { PathStep } from './protocol.js';

/** How deep the search for the failing place goes. */
const MAX_SEARCH_DEPTH = 64;

/**
 * Why a call fails whose message could not be sent: the runtime's own refusal as it is (a
 * MarshalError, or a CallRejectedError while the peer is not reading), else where and why its
 * arguments could not be copied.
 */
export function sendFailure(args: unknown, err: unknown, method: string | number): Error {
  return isRuntimeError(err, MarshalError) || isRuntimeError(err, CallRejectedError) ? err : uncloneable('args', args, err, method);
}

/** Whether `err` is an instance of `cls`, asked without letting a proxy's traps throw. */
export function isRuntimeError<T extends Error>(err: unknown, cls: new (...args: never[]) => T): err is T {
  try {
    return err instanceof cls;
  } catch {
    return false;
  }
}

/** The error of a call's arguments (`args`, naming `method`) or of a result that could not be cloned. */
export function uncloneable(root: 'args' | 'result', value: unknown, err: unknown, method?: string | number): MarshalError {
  // Too large for the link as a whole: no part of it is to blame, and cloning it again part by part
  // to find one would cost what the link just refused to carry.
  const tooLarge = tooLargeText(err);
  if (tooLarge !== undefined) {
    const where = formatPath(root, []);
    const what = root === 'args' ? `${where} of call '${method}'` : where;
    return new MarshalError(`${TOO_LARGE} ${what} is too large to send: ${tooLarge.slice(TOO_LARGE.length + 1)}`, { path: where, cause: err });
  }
  const found = findUncloneable(value);
  const where = formatPath(root, found?.path ?? []);
  const why = found?.reason ?? cloneFailure(err);
  return root === 'args'
    ? new MarshalError(`[marshal] ${where} of call '${method}' cannot be copied to another apartment (${why}); pass plain data, or wrap objects with byRef()`, { path: where, cause: err })
    : new MarshalError(`[marshal] ${where} cannot be copied back to the caller (${why}); return plain data, or wrap objects with byRef()`, { path: where });
}

/**
 * After a failed clone, find where in `value` the first uncloneable part is (error path only:
 * it clones sub-values one by one). Returns the path, or undefined when the whole value clones.
 * Never throws: reading the value again runs the caller's getters and proxy traps a second time,
 * and one that throws now ends the search where it stands (the call still fails with its error).
 */
export function findUncloneable(value: unknown, path: PathStep[] = [], entered: Set<object> = new Set()): { path: PathStep[]; reason: string } | undefined {
  // A way back into an object the search is inside adds nothing (its keys are searched there); and
  // a path is not followed deeper than any caller would read.
  if (value !== null && typeof value === 'object' && entered.has(value)) return undefined;
  let cloneError: unknown;
  try {
    structuredClone(value);
    return undefined;
  } catch (err) {
    cloneError = err;
  }
  const here = { path, reason: cloneFailure(cloneError) };
  if (value === null || typeof value !== 'object' || path.length >= MAX_SEARCH_DEPTH) return here;
  entered.add(value);
  try {
    const keys: PathStep[] = Array.isArray(value) ? Array.from({ length: value.length }, (_, i) => i) : Object.keys(value);
    for (const k of keys) {
      const found = findUncloneable((value as Record<PathStep, unknown>)[k], [...path, k], entered);
      if (found) return found;
    }
  } catch {
    // The caller's code threw on this second look: report the place reached.
  }
  return here;
}

/** Why a clone failed, in words: the engine's DataCloneError says it; anything else the caller's code threw is described without running more of it. */
function cloneFailure(err: unknown): string {
  return messageOf(err, DOMException) ?? describeThrown(err);
}

/** The message of a transport's refusal of a message too large for its link, else undefined. */
function tooLargeText(err: unknown): string | undefined {
  const message = messageOf(err, Error);
  return message?.startsWith(TOO_LARGE) ? message : undefined;
}

/** `err.message` when `err` is a `cls` and its message a string, read so that nothing the caller threw (a proxy, a fake) can throw here. */
function messageOf(err: unknown, cls: abstract new (...args: never[]) => { message: unknown }): string | undefined {
  try {
    const message: unknown = err instanceof cls ? err.message : undefined;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}
