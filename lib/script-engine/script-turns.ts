// How a script run leaves the script realm, and the turns scripts run in. Reading what a script
// returned or threw can run script code (a getter on the returned object, a returned thenable's
// `then`, the realm's Error.prepareStackTrace when a thrown error's stack is formatted, the traps of
// a thrown or returned Proxy). ScriptOutcome does that reading in the run's own turn, while the
// apartment's script gate names the run (so interruptScript can stop it) and under the run's time
// limit, and hands on only host values: what runs outside the turn never calls into the script.
import * as types from 'node:util/types';
import vm from 'node:vm';
import { MessageChannel } from 'node:worker_threads';
import { CallTimeoutError, InvalidArgumentError, ScriptError, shownValue } from '../../marshal/errors.js';
import { checkOptionKeys, optionKeys } from '../../marshal/option-keys.js';
import type { HostMembrane } from './host-membrane.js';
import type { ScriptRunOptions } from './script-engine-api.js';
import { dataOf, scriptErrorOf } from './script-source.js';
import { throughSlot } from './realm-seal.js';

/**
 * How a run (or the part of it the runtime reads) ended: what to resolve or reject its call with, or
 * that it waits for a thenable (`arm` runs after the turn, outside the script gate).
 */
export type Exit = { kind: 'value'; value: unknown } | { kind: 'failure'; value: unknown } | { kind: 'awaiting'; arm: () => void };

/** How deep a returned value is copied out of the script realm; deeper levels are refused. */
const MAX_DEPTH = 64;
/**
 * The most a returned value may weigh, counted as its copy would carry it: each string each time it
 * appears, binary data by its bytes. A copy writes a string once per appearance, so an array of a
 * few thousand references to one 1 MiB string was gigabytes in the host, whose heap it overran.
 */
export const MAX_RESULT_BYTES = 64 * 1024 * 1024;
const exitScript = new vm.Script('__exit()', { filename: 'invoke.js' });

/** One run's reading of what the script returned or threw; owner apartment only, in the run's turn. */
export class ScriptOutcome {
  /** `ownJobs`: the context runs its own promise jobs (script-awaits.ts), which only a vm call's end runs. */
  constructor(private readonly membrane: HostMembrane | undefined, private readonly options: ScriptRunOptions, private readonly ctx: vm.Context, private readonly ownJobs = false) {}

  /** What the script returned, copied out of its realm (getters and traps run now). */
  returned(value: unknown): Exit {
    return this.call(() => this.copyOut(value, 0, new Map(), { bytes: 0 }));
  }

  /** What the script threw, as the error its call fails with. */
  failed(err: unknown): Exit {
    try {
      return { kind: 'failure', value: this.limited(() => this.failure(err)) };
    } catch (reading) {
      if (isTimeout(reading)) return this.timedOut();
      return { kind: 'failure', value: new ScriptError('[script-threw] reading what the script threw ran script code that threw in turn; throw an Error with a plain message') };
    }
  }

  /** The `then` of a returned thenable (undefined for any other value), read now. */
  thenOf(value: unknown): Exit {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return { kind: 'value', value: undefined };
    return this.call(() => {
      const then = (value as { then?: unknown }).then;
      return typeof then === 'function' ? then : undefined;
    });
  }

  /** Run `read`, which may run script code, under the run's time limit. */
  call(read: () => unknown): Exit {
    try {
      return { kind: 'value', value: this.limited(read) };
    } catch (err) {
      return isTimeout(err) ? this.timedOut() : this.failed(err);
    }
  }

  /**
   * `read` inside a vm call of the script's context with the run's limit, so V8's watchdog covers
   * it, and the jobs it queues in a context with a queue of its own run before the turn ends.
   */
  private limited<T>(read: () => T): T {
    if (this.options.timeoutMs === undefined && !this.ownJobs) return read();
    return throughSlot<T>(this.ctx, '__exit', read, () => exitScript.runInContext(this.ctx, timeoutOf(this.options)));
  }

  private timedOut(): Exit {
    return { kind: 'failure', value: new CallTimeoutError(`[script-timeout] the script ran past its ${this.options.timeoutMs} ms limit and was stopped`) };
  }

  /** A host error the script let through stays itself; anything the script threw becomes a ScriptError. */
  private failure(err: unknown): unknown {
    if (this.membrane?.wraps(err)) return this.membrane.toHost(err);
    // Data properties only: a getter on a script's value would run script code. V8's timeout error
    // is made in the script's realm, so it is recognised by its code, not by instanceof.
    const timedOut = err !== null && typeof err === 'object' && dataOf(err, 'code') === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
    if (!timedOut) return err instanceof Error && !types.isProxy(err) ? err : scriptErrorOf(err, this.membrane?.realmStack);
    return new CallTimeoutError(`[script-timeout] the script ran past its ${this.options.timeoutMs} ms limit and was stopped`, { cause: err });
  }

  /**
   * A value leaving the script: membrane proxies become their host values, script functions host
   * functions that wrap their callers' values, and every other object of the script (plain, of a
   * class, with no prototype, a Proxy, a Map or Set) a host copy of its enumerable own properties or
   * entries, read now, so no getter of the script's runs once the result has left the run. Dates,
   * regular expressions, binary data and errors go as they are. The whole is weighed as it goes.
   */
  private copyOut(value: unknown, depth: number, copies: Map<object, unknown>, weight: { bytes: number }): unknown {
    const host = this.membrane ? this.membrane.toHost(value) : value;
    if (typeof value === 'string') this.weigh(weight, value.length);
    if (host !== value || value === null || typeof value !== 'object') return host;
    const done = copies.get(value);
    if (done !== undefined) return done;
    if (types.isArrayBufferView(value) || types.isAnyArrayBuffer(value)) return this.weigh(weight, value.byteLength, value);
    if (types.isRegExp(value)) return this.weigh(weight, value.source.length, value);
    if (types.isDate(value) || types.isNativeError(value) || types.isBoxedPrimitive(value)) return value;
    if (depth >= MAX_DEPTH) throw new ScriptError(`[script-result] the script returned a value nested deeper than ${MAX_DEPTH} levels; return flatter data`);
    const next = (v: unknown): unknown => this.copyOut(v, depth + 1, copies, weight);
    if (Array.isArray(value)) {
      const copy: unknown[] = [];
      copies.set(value, copy);
      for (let i = 0; i < value.length; i++) copy.push(next(value[i]));
      return copy;
    }
    // The host's own Map and Set methods read the entries from their slots: no method of the script's runs.
    if (types.isMap(value)) {
      const copy = new Map<unknown, unknown>();
      copies.set(value, copy);
      for (const [k, v] of Map.prototype.entries.call(value) as IterableIterator<[unknown, unknown]>) copy.set(next(k), next(v));
      return copy;
    }
    if (types.isSet(value)) {
      const copy = new Set<unknown>();
      copies.set(value, copy);
      for (const v of Set.prototype.values.call(value) as IterableIterator<unknown>) copy.add(next(v));
      return copy;
    }
    const copy: Record<string, unknown> = {};
    copies.set(value, copy);
    for (const key of Object.keys(value)) {
      this.weigh(weight, key.length);
      copy[key] = next((value as Record<string, unknown>)[key]);
    }
    return copy;
  }

  /** Count `bytes` more of the result; past MAX_RESULT_BYTES the result is refused. */
  private weigh<T>(weight: { bytes: number }, bytes: number, value?: T): T | undefined {
    weight.bytes += bytes + 8;
    if (weight.bytes > MAX_RESULT_BYTES) {
      throw new ScriptError(`[script-result] the script returned more than ${MAX_RESULT_BYTES / 1024 / 1024} MiB, counted as a copy carries it (each string each time it appears); return less, or keep the data in the script and hand out parts`);
    }
    return value;
  }
}

/** Whether `err` is Node's report that a vm call ran past its limit. */
export function isTimeout(err: unknown): boolean {
  return err !== null && typeof err === 'object' && !types.isProxy(err) && dataOf(err, 'code') === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

// Scripts run in turns delivered by a private MessagePort rather than setImmediate: an interrupt
// aborts the JavaScript that is running, and an immediate's JavaScript-side async bookkeeping would
// be left unbalanced by it (Node then aborts the thread); a port's message dispatch has none.
const turns: (() => void)[] = [];
let pump: MessageChannel | undefined;

/** Run `job` in a turn of its own. */
export function onScriptTurn(job: () => void): void {
  if (!pump) {
    pump = new MessageChannel();
    pump.port2.on('message', () => turns.shift()?.());
    pump.port1.unref();
    pump.port2.unref();
  }
  turns.push(job);
  pump.port1.postMessage(null);
}

/** The most V8's watchdog takes (ms): a time limit is a whole number from 1 to this. */
const MAX_TIMEOUT_MS = 0xffff_ffff;

/**
 * `timeoutMs` as given, checked where it is given: V8 takes only a whole number of ms from 1 to
 * 2^32 - 1, and a limit it refuses at run time would fail the run (or, stored, an engine's start)
 * with an error about reading what the script threw.
 */
export function checkedTimeout(timeoutMs: number | undefined, parameter: string): number | undefined {
  if (timeoutMs === undefined || (Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS)) return timeoutMs;
  throw new InvalidArgumentError(`[timeout] ${parameter} must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, or left out for no limit; got ${shownValue(timeoutMs)}`, { parameter });
}

/** The keys each script engine method's options take; any other (a misspelt persistent, say) is refused. */
const OPTION_KEYS = {
  parseScriptText: optionKeys<ScriptRunOptions>({ persistent: true, timeoutMs: true }),
  addNamedItem: optionKeys<{ persistent?: boolean }>({ persistent: true }),
};

/** Refuse a key of `method`'s options that it does not read. */
export function checkScriptOptions(options: object, method: keyof typeof OPTION_KEYS): void {
  checkOptionKeys(options, OPTION_KEYS[method], `${method}()`);
}

/**
 * The vm options of a run. displayErrors off: Node would otherwise read a thrown error's `stack` as
 * the vm call returns, after its time limit ended, running the realm's Error.prepareStackTrace there.
 */
export function timeoutOf(options: ScriptRunOptions): vm.RunningScriptOptions {
  return options.timeoutMs === undefined ? { displayErrors: false } : { timeout: options.timeoutMs, displayErrors: false };
}
