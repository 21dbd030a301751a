// The vm context scripts run in, and the few precompiled scripts the engine runs inside it.
// The context's global object is built from a null-prototype host object, so nothing on the
// global's prototype chain belongs to the host realm: `this.constructor.constructor` reaches the
// context's own Function, whose code sees only the context's globals. The context's microtasks
// run in its own queue, drained at the end of each vm run (microtaskMode 'afterEvaluate'), so
// every piece of script code — global code, calls, and continuations after an await — runs inside
// a vm run that the engine started, under its time limit and its interrupt flag.
import { randomUUID } from 'node:crypto';
import vm from 'node:vm';
import { ScriptError } from '../errors.js';

/** What a call into script produced, as recorded inside the context. */
export type ScriptOutcome =
  | { ok: true; value: unknown }
  | { ok: false; error: ScriptFailure };

/** A script failure, read inside the context so no script getter runs on the host later. */
export interface ScriptFailure {
  name: string;
  message: string;
  stack: string;
  /** Set when the called name is not a function the script defined. */
  missing?: boolean;
}

/** One engine's context: owner thread only; rebuilt on reset. */
export class ScriptSandbox {
  readonly global: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  readonly context: vm.Context;
  /** The context's own Promise, captured before any script could replace it. */
  readonly Promise: PromiseConstructor;
  private readonly arrayFrom: (items: unknown[]) => unknown[];
  private readonly slot = `__engine_call_${randomUUID().replaceAll('-', '')}`;
  private readonly callScript: vm.Script;
  private readonly drainScript = new vm.Script('undefined', { filename: 'engine:drain' });
  private scriptCount = 0;

  constructor(name: string) {
    this.context = vm.createContext(this.global, {
      name,
      codeGeneration: { strings: true, wasm: false },
      microtaskMode: 'afterEvaluate',
    });
    this.Promise = vm.runInContext('Promise', this.context) as PromiseConstructor;
    this.arrayFrom = vm.runInContext('Array.from.bind(Array)', this.context) as (items: unknown[]) => unknown[];
    this.callScript = new vm.Script(callSource(this.slot), { filename: 'engine:call' });
  }

  /** Compiles script text; a syntax error becomes a ScriptError with its 1-based line and column. */
  compile(code: string, name?: string): { script: vm.Script; filename: string } {
    const filename = name ?? `script-${++this.scriptCount}.js`;
    try {
      return { script: new vm.Script(code, { filename }), filename };
    } catch (error) {
      throw syntaxErrorOf(error, filename);
    }
  }

  /** Runs compiled global code (and the microtasks it queued); throws what the script threw. */
  runGlobal(script: vm.Script, timeoutMs: number | undefined): void {
    script.runInContext(this.context, runOptions(timeoutMs));
  }

  /**
   * Calls the global function `name` with arguments already made safe for the script. The call
   * and the reading of its outcome happen inside the context; an async result comes back as a
   * context promise of an outcome that never rejects.
   */
  call(name: string, args: unknown[], timeoutMs: number | undefined): ScriptOutcome | { pending: Promise<ScriptOutcome> } {
    Object.defineProperty(this.global, this.slot, {
      value: this.arrayFrom([name, this.arrayFrom(args)]),
      configurable: true,
      enumerable: false,
      writable: false,
    });
    try {
      return this.callScript.runInContext(this.context, runOptions(timeoutMs)) as ScriptOutcome | { pending: Promise<ScriptOutcome> };
    } finally {
      delete this.global[this.slot];
    }
  }

  /** Runs the continuations that settled host promises made ready. */
  drain(timeoutMs: number | undefined): void {
    this.drainScript.runInContext(this.context, runOptions(timeoutMs));
  }
}

function runOptions(timeoutMs: number | undefined): vm.RunningScriptOptions {
  return timeoutMs === undefined ? { displayErrors: false } : { displayErrors: false, timeout: Math.max(1, Math.ceil(timeoutMs)) };
}

// Runs inside the context. Reads the call slot and deletes it before any script code runs, and
// describes failures with the context's own code, so a hostile thrown value costs script time only.
function callSource(slot: string): string {
  return `(() => {
  'use strict';
  const call = globalThis[${JSON.stringify(slot)}];
  delete globalThis[${JSON.stringify(slot)}];
  const describe = (e) => {
    try {
      if (e !== null && (typeof e === 'object' || typeof e === 'function')) {
        return { name: String(e.name ?? 'Error'), message: String(e.message ?? ''), stack: String(e.stack ?? '') };
      }
      return { name: 'Error', message: String(e), stack: '' };
    } catch {
      return { name: 'Error', message: 'the script threw a value that cannot be described', stack: '' };
    }
  };
  try {
    const fn = globalThis[call[0]];
    if (typeof fn !== 'function') {
      return { ok: false, error: { name: 'ReferenceError', message: String(call[0]) + ' is not a function the script defined', stack: '', missing: true } };
    }
    const value = fn.apply(undefined, call[1]);
    if (value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function') {
      return { pending: Promise.resolve(value).then((v) => ({ ok: true, value: v }), (e) => ({ ok: false, error: describe(e) })) };
    }
    return { ok: true, value };
  } catch (e) {
    return { ok: false, error: describe(e) };
  }
})()`;
}

/** Maps a failure the script raised to a ScriptError, with the position of its first frame in `filenames`. */
export function scriptErrorOf(failure: ScriptFailure, filenames: ReadonlySet<string>, cause?: unknown): ScriptError {
  let line: number | undefined;
  let column: number | undefined;
  for (const match of failure.stack.matchAll(/([^\s()]+):(\d+):(\d+)/g)) {
    if (filenames.has(match[1]!)) {
      line = Number(match[2]);
      column = Number(match[3]);
      break;
    }
  }
  const where = line === undefined ? '' : ` at line ${line}, column ${column}`;
  return new ScriptError(`[script-error] ${failure.name}: ${failure.message}${where}; fix the script or catch the error in it`, { line, column, cause });
}

/** Describes a value thrown by global code; the caller holds the interrupt flag while this runs. */
export function describeThrown(error: unknown): ScriptFailure {
  try {
    if (error !== null && (typeof error === 'object' || typeof error === 'function')) {
      const e = error as { name?: unknown; message?: unknown; stack?: unknown };
      return { name: String(e.name ?? 'Error'), message: String(e.message ?? ''), stack: String(e.stack ?? '') };
    }
    return { name: 'Error', message: String(error), stack: '' };
  } catch {
    return { name: 'Error', message: 'the script threw a value that cannot be described', stack: '' };
  }
}

// Node puts "file:LINE", the source line and a caret line at the top of a compile error's stack.
function syntaxErrorOf(error: unknown, filename: string): ScriptError {
  const stack = String((error as { stack?: unknown })?.stack ?? '');
  const message = String((error as { message?: unknown })?.message ?? error);
  const lines = stack.split('\n');
  const head = /^(.*):(\d+)$/.exec(lines[0] ?? '');
  const line = head && head[1] === filename ? Number(head[2]) : undefined;
  const caret = lines[2]?.indexOf('^') ?? -1;
  const column = line !== undefined && caret >= 0 ? caret + 1 : undefined;
  const where = line === undefined ? '' : ` at line ${line}, column ${column}`;
  return new ScriptError(`[script-syntax] ${message} in ${filename}${where}; fix the script text and parse it again`, { line, column, cause: error });
}
