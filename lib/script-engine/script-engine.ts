// The script-engine adapter (COM's Active Scripting contract on node:vm). Free-threaded while
// uninitialized or closed; setSite() binds it to the calling apartment, and until it is closed or
// reset every operation from another apartment fails with WrongThreadError (E_UNEXPECTED), except
// getState() and clone() (interruptScript() is a runtime function: a busy engine's thread cannot
// serve a call). The engine lives in one apartment; callers elsewhere hold proxies.
import { executionAsyncId } from 'node:async_hooks';
import vm from 'node:vm';
import { CUSTOM_MARSHAL, type CustomMarshaled } from '../../marshal/by-ref.js';
import { registerValueType } from '../../marshal/value-types.js';
import { ENGINE_COPY, settleInterruptedWith } from './engine-handles.js';
import { ITEM_NAME, enginePayloadOf } from './engine-payload.js';
import { currentApartment } from '../../apartments/context.js';
import { callerOf, dispatchedThrough } from './engine-caller.js';
import { ApartmentError, ScriptError, WrongThreadError } from '../../marshal/errors.js';
import { ScriptOutcome, checkScriptOptions, checkedTimeout, onScriptTurn, timeoutOf, type Exit } from './script-turns.js';
import { ScriptEngineApiRemote } from './generated/script-engine-api.remote.js';
import { HostMembrane } from './host-membrane.js';
import type { ScriptRunOptions, ScriptState } from './script-engine-api.js';
export type { ScriptRunOptions, ScriptState };
import { compileScript, stackGetterOf } from './script-source.js';
import { containScriptRejections } from './script-rejections.js';
import { prepareRealm, throughSlot } from './realm-seal.js';
import { ScriptRun, type ScriptBorder } from './script-run.js';
import { AwaitingCalls, ScriptDrain, awaitThenable, type AwaitSite } from './script-awaits.js';
import { asyncStackIntact, endBrokenThread, promiseHooksOn } from './promise-hooks.js';
import type { CodeBlock, EnginePayload, Item } from './engine-contents.js';
import { localApartment } from '../../apartments/local-context.js';
import { clearClaim, enterRun, leaveRun, nextRun } from '../../apartments/script-gate.js';

const unexpected = (message: string): ApartmentError => new ApartmentError('E_UNEXPECTED', message);
let scripts = 0;

/** A script engine bound to the apartment that sets its site. */
export class ScriptEngine {
  static threading = 'script-engine';
  /**
   * Answered even while a long asynchronous script holds the engine's turn: state queries, clone, and
   * state changes, so close() or a reset can end a call whose script awaits forever.
   */
  static interleave = ['getState', 'clone', 'close', 'setState'];
  /** Only ScriptEngineApi's methods are callable from other apartments, with their arguments checked. */
  static remoteInterface = dispatchedThrough(ScriptEngineApiRemote);

  private state: ScriptState = 'uninitialized';
  private boundTo: number | undefined;
  private site: unknown;
  private context: vm.Context | undefined;
  /** Made with the context, dropped with it: host values reach scripts only through it. */
  private membrane: HostMembrane | undefined;
  private readonly code: CodeBlock[] = [];
  private readonly items = new Map<string, Item>();
  /** The run going on in this thread's script turn, or one a stop ended and nothing settled yet. */
  private running: ScriptRun | undefined;
  /** Calls whose script is suspended in an await: an interrupt or close settles them (owner apartment only). */
  readonly #awaiting = new AwaitingCalls();
  /** Whether the context runs its own promise jobs (promise-hooks.ts), so that drains run what host code queued there. */
  #ownJobs = false;
  /** What a wait for a promise the script returned uses of this engine (script-awaits.ts). */
  readonly #awaits: AwaitSite = {
    awaiting: this.#awaiting,
    running: () => this.running,
    turn: (reject, work, resolve) => this.#turn(reject, work, resolve),
    outside: (call) => this.#outside(call),
  };
  /** Runs the promise jobs host code queued in the context, in turns of their own (script-awaits.ts). */
  readonly #drain = new ScriptDrain({
    context: () => (this.#ownJobs ? this.context : undefined),
    turn: (work, failed) => this.#turn(failed, work, () => undefined),
    awaiting: this.#awaiting,
  });
  /** The apartment this engine moved to; it answers only state queries after. */
  private movedTo: number | undefined;

  constructor(payload?: EnginePayload) {
    for (const { text, persistent, timeoutMs } of payload?.code ?? []) this.code.push({ text, script: compileScript(text, `script-${++scripts}.js`), persistent, timeoutMs });
    for (const [name, value, persistent] of payload?.items ?? []) this.items.set(name, { value, persistent });
  }

  getState(): ScriptState {
    return this.state;
  }

  /** Bind the engine to the calling apartment (COM: SetScriptSite). */
  setSite(site: object): void {
    this.#guard('setSite');
    if (this.state !== 'uninitialized') throw unexpected(`[site-set] the engine already has a site (state ${this.state}); reset it with setState('uninitialized') first`);
    if (site === null || typeof site !== 'object') throw unexpected('[site] the site must be an object');
    this.site = site;
    this.boundTo = callerOf(this);
    this.state = 'initialized';
  }

  /** Expose a host object to scripts under `name` (it reaches scripts as a proxy when it lives elsewhere). */
  addNamedItem(name: string, value: unknown, options: { persistent?: boolean } = {}): void {
    this.#guard('addNamedItem');
    if (!ITEM_NAME.test(name)) throw unexpected(`[named-item] '${name}' is not a valid script identifier`);
    checkScriptOptions(options, 'addNamedItem');
    this.items.set(name, { value, persistent: options.persistent === true });
    // Defined, not assigned: assigning would run a setter the script put on its global, outside any run.
    if (this.context && !Reflect.defineProperty(this.context, name, { value: this.membrane!.toScript(value), writable: true, enumerable: true, configurable: true })) {
      throw unexpected(`[named-item] the script made its global '${name}' unchangeable; add items under names the script does not define`);
    }
  }

  /** Add script text; it runs now if the engine is started, else when it starts. Resolves to its value. */
  async parseScriptText(text: string, options: ScriptRunOptions = {}): Promise<unknown> {
    this.#guard('parseScriptText');
    if (this.state === 'uninitialized') throw unexpected('[state-order] set a site before adding script text');
    checkScriptOptions(options, 'parseScriptText');
    const block: CodeBlock = { text, timeoutMs: checkedTimeout(options.timeoutMs, 'options.timeoutMs'), script: compileScript(text, `script-${++scripts}.js`), persistent: options.persistent === true };
    this.code.push(block);
    if (this.context && this.state !== 'initialized') return this.#runBlock(block, this.context);
    return undefined;
  }

  /** Move between states (COM: SetScriptState); the current state is a no-op; leaving closed is refused. */
  async setState(next: ScriptState): Promise<void> {
    // Checked before the no-op: another apartment may not even learn the state by setting it.
    this.#guard('setState');
    if (next === this.state) return;
    if (this.state === 'closed') throw unexpected(`[closed] a closed engine stays closed; create or clone a new one`);
    switch (next) {
      case 'uninitialized':
        return this.#reset();
      case 'closed':
        return this.close();
      case 'started':
        if (this.state !== 'initialized') break;
        return this.#start();
      case 'connected':
        if (this.state === 'initialized') await this.#start();
        else if (this.state !== 'started' && this.state !== 'disconnected') break;
        this.state = 'connected';
        return;
      case 'disconnected':
        if (this.state !== 'connected') break;
        this.state = 'disconnected';
        return;
      case 'initialized':
        throw unexpected("[state-order] an engine becomes initialized by setSite(), not setState('initialized')");
      default:
        throw unexpected(`[state] unknown state ${String(next)}`);
    }
    throw unexpected(`[state-order] cannot go from ${this.state} to ${next}`);
  }

  /** The site this engine was given (its host's object), while it has one. */
  getSite(): unknown {
    this.#guard('getSite');
    return this.site;
  }

  /** Call a global function the script defined; awaits it if it returns a promise. */
  invoke(name: string, ...args: unknown[]): Promise<unknown> {
    return this.invokeWithin(undefined, name, ...args);
  }

  /** invoke() with a time limit in ms (undefined: none). */
  async invokeWithin(timeoutMs: number | undefined, name: string, ...args: unknown[]): Promise<unknown> {
    this.#guard('invoke');
    if (!this.context || this.state === 'initialized') throw unexpected(`[state-order] start the engine before invoking '${name}' (state ${this.state})`);
    // A data property only: a getter the script put there would run its code outside any run.
    const own = Object.getOwnPropertyDescriptor(this.context, name);
    const fn: unknown = own && 'value' in own ? own.value : undefined;
    if (typeof fn !== 'function') throw new ScriptError(`[no-such-function] the script defines no function '${name}' (a global function, not an accessor)`);
    const ctx = this.context;
    const scriptArgs = args.map((a) => this.membrane!.toScript(a));
    const options: ScriptRunOptions = timeoutMs === undefined ? {} : { timeoutMs: checkedTimeout(timeoutMs, 'timeoutMs') };
    return this.#run(() => throughSlot(ctx, '__invocation', () => (fn as (...a: unknown[]) => unknown)(...scriptArgs), () => invocationScript.runInContext(ctx, timeoutOf(options))), options, ctx);
  }

  /**
   * A new engine with this one's persistent code and named items and no site. Returned to another
   * apartment, it is built there (it travels by value the first time), so the two run in parallel.
   * Made from an apartment a bound engine is not bound to, it carries the items' names only: their
   * values are the binding host's objects, which that apartment was not handed (COM's clone asks its
   * new site for each item); it adds them itself with addNamedItem().
   */
  clone(): ScriptEngine {
    return travelingCopy(this.#payload(true, this.boundTo !== undefined && callerOf(this) !== this.boundTo));
  }

  /**
   * Move an uninitialized engine into the calling apartment (a free-threaded object may change
   * threads): the caller gets a local engine with all its script text and named items, and this
   * one answers only state queries ('closed') after. A bound engine stays where its site was set.
   */
  move(): ScriptEngine {
    this.#guard('move');
    if (this.state !== 'uninitialized') throw unexpected(`[bound] only an uninitialized engine can move (state ${this.state}); reset it first, or clone it`);
    const to = callerOf(this);
    if (to === currentApartment().id) return this;
    const copy = travelingCopy(this.#payload(false));
    this.close();
    this.movedTo = to;
    return copy;
  }

  close(): void {
    if (this.movedTo !== undefined) this.#guard('close');
    if (this.state === 'closed') return;
    this.#guard('close');
    this.#abandon(unexpected('[closed] the engine was closed while a script was running'));
    this.context = undefined;
    this.membrane = undefined;
    this.code.length = 0;
    this.items.clear();
    this.site = undefined;
    this.boundTo = undefined;
    this.state = 'closed';
  }

  /**
   * Runtime internals: the interrupt service stopped the script of `generation`; settle its call.
   * Static, so no other apartment can reach it through a proxy (only prototype methods are callable).
   */
  static interrupted(engine: ScriptEngine, generation: number): boolean {
    return engine.#interrupted(generation);
  }

  /**
   * Runtime internals: an interrupt found no script running synchronously; settle the calls whose
   * script awaits. The suspended script code itself cannot be stopped: it resumes if what it awaits
   * settles later, and its result is dropped.
   */
  static abandonAwaiting(engine: ScriptEngine): boolean {
    if (engine.#awaiting.size === 0) return false;
    engine.#awaiting.abandonAll(new ScriptError('[interrupted] the script was interrupted while it awaited; its call is abandoned, and its code resumes (with its result dropped) if what it awaited settles'));
    return true;
  }

  /** Settle every call of this engine, running or awaiting, with `err`. */
  #abandon(err: Error): void {
    this.running?.reject(err);
    this.running = undefined;
    this.#awaiting.abandonAll(err);
  }

  #interrupted(generation: number): boolean {
    if (!this.running || this.running.generation !== generation) return false;
    clearClaim(localApartment().scriptGate);
    const err = new ScriptError('[interrupted] the script was interrupted; the engine is still usable, with its global state as it was when it stopped');
    const { reject, abandon } = this.running;
    this.running = undefined;
    if (abandon) abandon(err);
    else reject(err);
    return true;
  }

  /** The code and items a clone (persistent only, item values too unless `namesOnly`) or a move (all) takes along. */
  #payload(persistentOnly: boolean, namesOnly = false): EnginePayload {
    return {
      code: this.code.filter((c) => !persistentOnly || c.persistent).map((c) => ({ text: c.text, persistent: c.persistent, timeoutMs: c.timeoutMs })),
      items: [...this.items].filter(([, i]) => !persistentOnly || i.persistent).map(([n, i]) => [n, namesOnly ? undefined : i.value, i.persistent]),
    };
  }

  #reset(): void {
    this.#abandon(unexpected('[reset] the engine was reset while a script was running'));
    for (const [name, item] of [...this.items]) if (!item.persistent) this.items.delete(name);
    for (let i = this.code.length - 1; i >= 0; i--) if (!this.code[i]!.persistent) this.code.splice(i, 1);
    this.context = undefined;
    this.membrane = undefined;
    this.site = undefined;
    this.boundTo = undefined;
    this.state = 'uninitialized';
  }

  async #start(): Promise<void> {
    // A fresh realm: scripts see its own Object and Function, not the host's (no `process`, no `require`).
    // Its own promise job queue where that is safe (promise-hooks.ts): what a script queues then runs
    // inside a run or a drain (script-awaits.ts), never in the thread's queue where nothing stops it.
    this.#ownJobs = !promiseHooksOn();
    const ctx = vm.createContext(Object.create(null) as object, { name: 'apartment-runtime script', ...(this.#ownJobs ? { microtaskMode: 'afterEvaluate' as const } : {}) });
    const guard = prepareRealm(ctx);
    const apt = localApartment();
    containScriptRejections((message) => apt.endpoint.warn(message));
    const border: ScriptBorder = {
      outside: (call) => this.#outside(call),
      inside: (call) => {
        if (this.running) return this.running.inside(call);
        // Called back outside any run: what it queued runs in a drain.
        this.#drain.soon();
        return call();
      },
      settled: () => this.#drain.soon(),
    };
    const membrane = new HostMembrane(vm.runInContext('Promise', ctx) as PromiseConstructor, guard, stackGetterOf(ctx), border);
    for (const [name, item] of this.items) ctx[name] = membrane.toScript(item.value);
    this.context = ctx;
    this.membrane = membrane;
    this.state = 'started';
    for (const block of [...this.code]) await this.#runBlock(block, ctx);
  }

  #runBlock(block: CodeBlock, ctx: vm.Context): Promise<unknown> {
    const options: ScriptRunOptions = block.timeoutMs === undefined ? {} : { timeoutMs: block.timeoutMs };
    return this.#run(() => block.script.runInContext(ctx, timeoutOf(options)), options, ctx);
  }

  /**
   * Run script code in a macrotask of its own, with the apartment's script gate naming this run, so
   * that an interrupt (which aborts whatever JavaScript is running on the thread) can only ever stop
   * the script and nothing else of the runtime. Whatever may run script code on the script's behalf
   * (reading what it returned or threw, a returned thenable's `then`) runs in the turn too, under
   * the run's time limit, and leaves only host values behind.
   */
  #run(body: () => unknown, options: ScriptRunOptions, ctx: vm.Context): Promise<unknown> {
    const outcome = new ScriptOutcome(this.membrane, options, ctx, this.#ownJobs);
    return new Promise((resolve, reject) => {
      this.#turn(reject, () => {
        // Closed or reset while this run waited for its turn: it must not run in the old realm.
        if (this.context !== ctx) return { kind: 'failure', value: unexpected(this.state === 'closed' ? '[closed] the engine was closed before the script ran' : '[reset] the engine was reset before the script ran') };
        let result: unknown;
        try {
          result = body();
        } catch (err) {
          return outcome.failed(err);
        }
        const then = outcome.thenOf(result);
        if (then.kind !== 'value') return then;
        if (then.value === undefined) return outcome.returned(result);
        return awaitThenable(this.#awaits, result, then.value as (ok: unknown, fail: unknown) => unknown, { outcome, options, ctx, resolve, reject });
      }, resolve);
    });
  }

  /**
   * One gated turn: `work` runs with the gate naming it, and its exit settles the call after it.
   * Whatever script code it runs, it runs in vm calls, so the jobs that code queues run in the turn.
   */
  #turn(reject: (err: unknown) => void, work: () => Exit | undefined, resolve: (v: unknown) => void): void {
    const apt = localApartment();
    const gate = apt.scriptGate;
    const oid = apt.endpoint.exports.oidOf(this) ?? -1;
    onScriptTurn(() => {
      // A run still recorded was stopped (its turn ended without its own bookkeeping); its
      // settlement from the interrupt service may still be on its way: settle it now.
      if (this.running) this.#interrupted(this.running.generation);
      const grant = apt.endpoint.exports.get(oid)?.grant;
      const generation = nextRun(gate);
      // Recorded before the run is on the gate: a stop may land at any step after that, even
      // before work() begins, and the interrupt's settlement then finds the run to settle.
      this.running = new ScriptRun(reject, generation, gate);
      // A context that runs its own promise jobs runs them in this turn. With promise hooks on since
      // it started, a stop in a job would make Node abort the process (promise-hooks.ts): the run
      // stays off the gate, and a time limit that stopped a job ends the thread instead.
      const stoppable = !this.#ownJobs || !promiseHooksOn();
      const stack = executionAsyncId();
      if (stoppable) enterRun(gate, generation, oid, grant);
      const exit = work();
      if (stoppable) leaveRun(gate, generation);
      this.running = undefined;
      if (!asyncStackIntact(stack)) endBrokenThread();
      if (exit?.kind === 'value') resolve(exit.value);
      else if (exit?.kind === 'failure') reject(exit.value);
      else if (exit?.kind === 'awaiting') exit.arm();
    });
  }

  /** Host code a script called: outside the run, if one is going on (see ScriptRun). */
  #outside<T>(call: () => T): T {
    return this.running ? this.running.outside(call) : call();
  }

  /** While the engine has a site, only the apartment that set it may use it; a closed engine only answers state queries. */
  #guard(op: string): void {
    if (this.movedTo !== undefined) throw unexpected(`[moved] ${op}() on an engine that moved to apartment ${this.movedTo}; use the engine move() returned there`);
    if (this.state === 'closed' && op !== 'close' && op !== 'setState') throw unexpected(`[closed] ${op}() on a closed engine; create or clone a new one`);
    if (this.boundTo === undefined) return;
    const who = callerOf(this);
    if (who !== this.boundTo) {
      throw new WrongThreadError(`[wrong-thread] ${op}() was called from apartment ${who}, but this engine is bound to apartment ${this.boundTo} (it set the site); call from there, or reset or close the engine first`, { code: 'E_UNEXPECTED' });
    }
  }
}

/** A new engine that is built in the receiving apartment the first time it crosses one (by value, once). */
function travelingCopy(payload: EnginePayload): ScriptEngine {
  const copy = new ScriptEngine(payload);
  Object.defineProperty(copy, CUSTOM_MARSHAL, {
    configurable: true,
    value(this: ScriptEngine): CustomMarshaled {
      delete (this as unknown as Record<symbol, unknown>)[CUSTOM_MARSHAL];
      return { key: ENGINE_COPY, payload };
    },
  });
  return copy;
}

const invocationScript = new vm.Script('__invocation()', { filename: 'invoke.js' });

registerValueType(ENGINE_COPY, (payload) => new ScriptEngine(enginePayloadOf(payload)));
settleInterruptedWith((object, generation) => {
  if (!(object instanceof ScriptEngine)) return false;
  return generation === 0 ? ScriptEngine.abandonAwaiting(object) : ScriptEngine.interrupted(object, generation);
});
