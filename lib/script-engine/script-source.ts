// Compiling untrusted script text and reporting what it throws: a syntax error or a thrown value
// becomes a ScriptError with the 1-based line and column V8 reports.
import vm from 'node:vm';
import * as types from 'node:util/types';
import { ScriptError } from '../../marshal/errors.js';

/** Compile `code`; throws ScriptError with line and column on a syntax error. */
export function compileScript(code: string, filename: string): vm.Script {
  if (typeof code !== 'string') throw new ScriptError('[script-text] script text must be a string');
  try {
    return new vm.Script(code, { filename });
  } catch (err) {
    if (!(err instanceof Error) || err.name !== 'SyntaxError') throw err;
    // V8's stack for a compile error: "file:LINE\n<source line>\n<spaces>^^^\n\nSyntaxError: …"
    const lines = String(err.stack).split('\n');
    const line = Number(/:(\d+)$/.exec(lines[0] ?? '')?.[1]);
    const caret = (lines[2] ?? '').indexOf('^');
    const where: { line?: number; column?: number } = {};
    if (Number.isFinite(line)) where.line = line;
    if (where.line !== undefined && caret >= 0) where.column = caret + 1;
    const at = where.line === undefined ? '' : `:${where.line}${where.column === undefined ? '' : `:${where.column}`}`;
    throw new ScriptError(`[script-syntax] ${err.message} at ${filename}${at}; fix the script text`, { cause: err, ...where });
  }
}

/** V8's own getter of `stack` on the errors of one script realm (see stackGetterOf). */
export type StackGetter = (this: object) => unknown;

/**
 * The getter V8 gives the errors of `ctx`'s realm for `stack`, or undefined where `stack` is a data
 * property. Node 20's V8 makes `stack` an own data property; newer V8 (Node 22 and later) an own
 * accessor pair, one getter per realm. A script can define a getter of its own, so the engine calls
 * only this one, taken from an error V8 raises itself (not through the realm's `Error`, which a
 * named item can shadow), before any script runs. It formats the trace V8 captured, and so consults
 * the realm's `Error.prepareStackTrace` if a script set one, as reading the data property does on
 * Node 20.
 */
export function stackGetterOf(ctx: vm.Context): StackGetter | undefined {
  const own = vm.runInContext('(() => { try { null.x; } catch (e) { return e; } })()', ctx) as object;
  const get = Object.getOwnPropertyDescriptor(own, 'stack')?.get;
  return typeof get === 'function' ? (get as StackGetter) : undefined;
}

/**
 * What a script threw, as a ScriptError with the 1-based line and column of the throw. Reads data
 * properties, and `stack` through V8's own getter of the realm (`realmStack`) only: a getter of the
 * script's would run script code outside the engine's turn, where no time limit or interrupt applies.
 */
export function scriptErrorOf(thrown: unknown, realmStack?: StackGetter): ScriptError {
  if (thrown === null || (typeof thrown !== 'object' && typeof thrown !== 'function')) {
    return new ScriptError(`[script-threw] the script threw ${describeThrown(thrown)}; catch it in the script or fix the call`);
  }
  const stack = dataOf(thrown, 'stack') ?? nativeStackOf(thrown, realmStack) ?? '';
  const where = /\((script-\d+\.js|invoke\.js):(\d+):(\d+)\)|at (script-\d+\.js):(\d+):(\d+)/.exec(stack);
  const file = where?.[1] ?? where?.[4];
  const position = file === undefined || file === 'invoke.js' ? {} : { line: Number(where![2] ?? where![5]), column: Number(where![3] ?? where![6]) };
  const at = 'line' in position ? ` at ${file}:${position.line}:${position.column}` : '';
  return new ScriptError(`[script-threw] ${describeThrown(thrown)}${at}; catch it in the script or fix the call`, position);
}

/** How much of a thrown name or message a ScriptError repeats; a script may throw a message of any size. */
export const MAX_THROWN_TEXT = 4_096;

/** What a script threw, as `Name: message` or the primitive, read through data properties only, each part at most MAX_THROWN_TEXT characters. */
export function describeThrown(thrown: unknown): string {
  if (thrown === null || (typeof thrown !== 'object' && typeof thrown !== 'function')) {
    return clip(typeof thrown === 'string' ? JSON.stringify(thrown) : typeof thrown === 'bigint' ? `${thrown}n` : String(thrown));
  }
  if (types.isProxy(thrown)) return 'a proxy';
  return `${clip(dataOf(thrown, 'name') ?? 'Error')}: ${clip(dataOf(thrown, 'message') ?? '')}`;
}

function clip(text: string): string {
  return text.length <= MAX_THROWN_TEXT ? text : `${text.slice(0, MAX_THROWN_TEXT)}… (${text.length - MAX_THROWN_TEXT} more characters)`;
}

/** A string-valued own-or-inherited data property, never through a getter. */
export function dataOf(value: object, key: string): string | undefined {
  for (let o: object | null = value, depth = 0; o !== null && depth < 8; o = Object.getPrototypeOf(o) as object | null, depth++) {
    // A proxy anywhere on the chain would run its traps, which are script code.
    if (types.isProxy(o)) return undefined;
    const d = Object.getOwnPropertyDescriptor(o, key);
    if (d === undefined) continue;
    return 'value' in d && typeof d.value === 'string' ? d.value : undefined;
  }
  return undefined;
}

/** `stack` read through V8's getter of the realm, when that is the getter `value` has as its own. */
function nativeStackOf(value: object, realmStack: StackGetter | undefined): string | undefined {
  if (realmStack === undefined || Object.getOwnPropertyDescriptor(value, 'stack')?.get !== realmStack) return undefined;
  const stack = Reflect.apply(realmStack, value, []);
  return typeof stack === 'string' ? stack : undefined;
}
