// What happens while a script awaits: the calls waiting for a promise a script returned, and the
// script realm's own promise jobs, run in gated turns. An engine's context may have a job queue of
// its own (microtaskMode 'afterEvaluate', where promise-hooks.ts finds that safe): code a script
// queues (after an `await`, in a `.then`) then runs at the end of the vm call that queued it, under
// that run's time limit and on the script gate, and never in the thread's queue, where neither
// reaches it: there an `await null` followed by a busy loop wedged the apartment for good. Jobs
// queued from outside a vm call (host code settling a promise the script awaits, or calling a
// script function back) wait in that queue until something runs in the context: a drain, a turn
// that runs an empty script there, with the time limit of the awaiting calls. Owner apartment only.
import vm from 'node:vm';
import { CallTimeoutError } from '../../marshal/errors.js';
import { setLongTimeout, type LongTimer } from '../../marshal/long-timer.js';
import type { ScriptRunOptions } from './script-engine-api.js';
import type { ScriptRun } from './script-run.js';
import type { Exit, ScriptOutcome } from './script-turns.js';
import { isTimeout, timeoutOf } from './script-turns.js';
import { sealed } from './realm-seal.js';

const drainScript = new vm.Script('', { filename: 'drain.js' });

/** Calls whose script is suspended in an await, with their time limits; owner apartment only. */
export class AwaitingCalls {
  private readonly calls = new Map<(err: Error) => void, number | undefined>();

  get size(): number {
    return this.calls.size;
  }

  /** `abandon` settles the call with an error; `limit` is its time limit in ms, if any. */
  add(abandon: (err: Error) => void, limit: number | undefined): void {
    this.calls.set(abandon, limit);
  }

  has(abandon: (err: Error) => void): boolean {
    return this.calls.has(abandon);
  }

  delete(abandon: (err: Error) => void): boolean {
    return this.calls.delete(abandon);
  }

  /** Settle every awaiting call with `err` (each removes itself as it settles). */
  abandonAll(err: Error): void {
    for (const abandon of [...this.calls.keys()]) abandon(err);
  }

  /** The shortest time limit of the calls awaiting, if any has one. */
  shortestLimit(): number | undefined {
    let least: number | undefined;
    for (const limit of this.calls.values()) if (limit !== undefined && (least === undefined || limit < least)) least = limit;
    return least;
  }

  /** Settle the calls whose time limit is `limit` with `err`. */
  abandonLimited(err: Error, limit: number | undefined): void {
    for (const [abandon, own] of [...this.calls]) if (own === limit) abandon(err);
  }
}

/** What a drain needs of its engine. */
export interface DrainHost {
  /** The context whose queue to drain, when it has a queue of its own; undefined once the engine was reset or closed. */
  context(): vm.Context | undefined;
  /** Run `work` in a turn of the engine's, on its script gate; `failed` is told what stopped it (a time limit, an interrupt). */
  turn(work: () => Exit | undefined, failed: (err: unknown) => void): void;
  /** The engine's calls that await. */
  readonly awaiting: AwaitingCalls;
}

/** Drains one engine's context queue: at most one drain waits at a time. */
export class ScriptDrain {
  private queued = false;

  constructor(private readonly host: DrainHost) {}

  /** Jobs may wait in the context's queue: drain it in a turn of its own soon. */
  soon(): void {
    if (this.queued || !this.host.context()) return;
    this.queued = true;
    // The shortest limit of the calls awaiting when the drain runs: their code is what it runs.
    let limit: number | undefined;
    this.host.turn(() => {
      // Jobs queued while this turn runs need a drain of their own.
      this.queued = false;
      const ctx = this.host.context();
      if (!ctx) return undefined;
      limit = this.host.awaiting.shortestLimit();
      try {
        drainScript.runInContext(ctx, timeoutOf(limit === undefined ? {} : { timeoutMs: limit }));
      } catch (err) {
        if (!isTimeout(err)) throw err;
        return { kind: 'failure', value: new CallTimeoutError(`[script-timeout] code the script queued to run after an await or in a promise callback ran past the ${limit} ms limit of the call awaiting it and was stopped`) };
      }
      return undefined;
    }, (err) => {
      // A time limit settles the calls it was theirs; an interrupt, every call that awaited.
      if (err instanceof CallTimeoutError) this.host.awaiting.abandonLimited(err, limit);
      else this.host.awaiting.abandonAll(err as Error);
    });
  }
}

/** What a wait for a promise the script returned uses of its engine. */
export interface AwaitSite {
  readonly awaiting: AwaitingCalls;
  /** The run going on in the engine's script turn, if any. */
  running(): ScriptRun | undefined;
  /** Run `work` in a gated turn of the engine's; its exit settles through `resolve` or `reject`. */
  turn(reject: (err: unknown) => void, work: () => Exit, resolve: (v: unknown) => void): void;
  /** Run host code the script called, outside its run. */
  outside<T>(call: () => T): T;
}

/** The run that returned the thenable: how to read its outcome and settle its call. */
interface AwaitedRun {
  readonly outcome: ScriptOutcome;
  readonly options: ScriptRunOptions;
  readonly ctx: vm.Context;
  readonly resolve: (v: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Wait for a thenable the script returned: `then` is called in the run's turn; what it settles
 * with is read in a gated turn of its own. One settlement wins: the script's own, its time limit,
 * an interrupt, or close/reset.
 */
export function awaitThenable(site: AwaitSite, thenable: unknown, then: (ok: unknown, fail: unknown) => unknown, { outcome, options, ctx, resolve, reject }: AwaitedRun): Exit {
  // An interrupt can stop this turn at any statement, so `abandon` uses nothing declared after
  // it is registered, and the time limit's timer is armed after the turn, outside the gate: a
  // stop inside Node's timer code would leave its timer lists broken for the whole thread.
  let timer: LongTimer | undefined;
  const settle = (finish: () => void): void => {
    if (!site.awaiting.delete(abandon)) return;
    timer?.clear();
    finish();
  };
  const abandon = (err: Error): void => settle(() => reject(err));
  site.awaiting.add(abandon, options.timeoutMs);
  // Called in the run's own turn: the run recorded now is the one that returned this thenable.
  const run = site.running();
  if (run) run.abandon = abandon;
  const arm = (): void => {
    if (options.timeoutMs === undefined || !site.awaiting.has(abandon)) return;
    // A limit may be up to 2^32 - 1 ms, past a Node timer's reach.
    timer = setLongTimeout(() => abandon(new CallTimeoutError(`[script-timeout] the script's promise did not settle within ${options.timeoutMs} ms; it is abandoned, not stopped`)), options.timeoutMs);
  };
  const later = (read: () => Exit): void => {
    if (!site.awaiting.has(abandon)) return;
    site.turn((err) => settle(() => reject(err)), read, (v) => settle(() => resolve(v)));
  };
  // The settlers are sealed into the script's realm, and what they do runs outside the run.
  const settlers = [sealed(ctx, (v) => site.outside(() => later(() => outcome.returned(v)))), sealed(ctx, (e) => site.outside(() => later(() => outcome.failed(e))))];
  const calling = outcome.call(() => Reflect.apply(then, thenable, settlers));
  return { kind: 'awaiting', arm: calling.kind === 'failure' ? () => settle(() => reject(calling.value)) : arm };
}
