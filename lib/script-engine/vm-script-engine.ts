// A standalone script engine on node:vm that follows the script-engine threading contract (COM-REFERENCE
// rules 20-22, DESIGN.md §7): free-threaded while uninitialized or closed; bound to the apartment
// that sets its site until it is closed or reset; interrupt(), clone() and getState() from anyone.
// The engine object itself lives on one thread (its "home"); apartments are told apart by the
// injected callerApartment(), which the runtime answers from the current call's context.
import { BroadcastChannel, threadId } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { ApartmentError, CallCanceledError, CallTimeoutError, InvalidArgumentError, NoInterfaceError, WrongThreadError } from '../errors.js';
import { hasRunGlobalCode, isLegalMove, isScriptEngineState, type ScriptEngineState } from './engine-state.js';
import { HostMembrane } from './membrane.js';
import { ScriptRunControl, type ScriptInterruptHandle } from './run-control.js';
import { describeThrown, type ScriptOutcome, ScriptSandbox, scriptErrorOf } from './sandbox.js';
import { SectionRunner } from './section-runner.js';
import { cancelChannelName } from './interrupt-request.js';

/** What the host gives setSite(); both callbacks are optional and best-effort. */
export interface ScriptSite {
  onStateChange?(state: ScriptEngineState): unknown;
  onScriptError?(error: Error): unknown;
}

/** Construction options of a VmScriptEngine. */
export interface VmScriptEngineOptions {
  /** A name for the vm context and messages. */
  name?: string;
  /** Who is calling: the runtime supplies the caller's apartment id; default worker_threads.threadId. */
  callerApartment?: () => number;
  /** Per-call time limit applied when a call gives none (ms); default none. */
  callTimeoutMs?: number;
}

/** Options of addNamedItem(). */
export interface NamedItemOptions {
  /** Kept across reset() and copied by clone(). */
  persistent?: boolean;
}

/** Options of parseScriptText(). */
export interface ParseScriptOptions {
  /** Kept across reset() and copied by clone(); re-run when the engine starts again. */
  persistent?: boolean;
  /** Time limit for running this text's global code (ms). */
  timeoutMs?: number;
  /** File name in error positions; default script-N.js. */
  name?: string;
}

/** Options of invokeWithOptions(). */
export interface InvokeOptions {
  /** Time limit for the whole call, awaits included (ms). */
  timeoutMs?: number;
}

/** The persistent part of an engine: what clone() copies; structured-cloneable when the items are. */
export interface PersistentScriptImage {
  scripts: { code: string; name?: string }[];
  namedItems: { name: string; object: unknown }[];
}

interface Invocation {
  readonly name: string;
  readonly deadline: number | undefined;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** A node:vm script engine with the script-engine threading contract; lives on one thread. */
export class VmScriptEngine {
  readonly engineId = randomUUID();
  private readonly control = new ScriptRunControl();
  private readonly callerApartment: () => number;
  private readonly callTimeoutMs: number | undefined;
  private readonly name: string;
  private state: ScriptEngineState = 'uninitialized';
  private site: ScriptSite | undefined;
  private boundTo: number | undefined;
  private sandbox: ScriptSandbox;
  private membrane: HostMembrane;
  private readonly runner: SectionRunner;
  private readonly cancelChannel: BroadcastChannel;
  private readonly namedItems = new Map<string, { object: unknown; persistent: boolean }>();
  private readonly persistentScripts: { code: string; name?: string }[] = [];
  private pendingScripts: { code: string; name?: string; timeoutMs?: number }[] = [];
  private readonly filenames = new Set<string>();
  private readonly invocations = new Set<Invocation>();
  private drainQueued = false;

  constructor(options: VmScriptEngineOptions = {}) {
    this.name = options.name ?? 'script-engine';
    this.callerApartment = options.callerApartment ?? (() => threadId);
    this.callTimeoutMs = options.callTimeoutMs;
    this.sandbox = new ScriptSandbox(this.name);
    this.membrane = this.newMembrane();
    this.runner = new SectionRunner(this.control, () => this.cancelInvocations('[script-interrupted] the script was interrupted; call the engine again'));
    this.cancelChannel = new BroadcastChannel(cancelChannelName(this.engineId));
    this.cancelChannel.onmessage = () => this.cancelInvocations('[script-interrupted] the call was interrupted while it awaited; call the engine again');
    this.cancelChannel.unref();
    this.control.publishState(this.state);
  }

  /** Builds an engine, on this thread, from another engine's persistent image (see persistentImage()). */
  static fromPersistentImage(image: PersistentScriptImage, options: VmScriptEngineOptions = {}): VmScriptEngine {
    const engine = new VmScriptEngine(options);
    for (const item of image.namedItems) engine.addNamedItem(item.name, item.object, { persistent: true });
    for (const script of image.scripts) engine.queuePersistent(script);
    return engine;
  }

  /** A cloneable reference that lets any thread interrupt this engine or read its state. */
  interruptHandle(): ScriptInterruptHandle {
    return { engineId: this.engineId, control: this.control.control };
  }

  /** The current state; any apartment may ask. */
  getState(): ScriptEngineState {
    return this.state;
  }

  /** Sets the site and binds the engine to the calling apartment (uninitialized -> initialized). */
  setSite(site: ScriptSite): void {
    this.checkCaller('setSite');
    this.checkOpen('setSite');
    if (this.state !== 'uninitialized') throw unexpected(`[script-site-set] the site is already set; reset the engine (setState('uninitialized')) before setting another`);
    if (site === null || (typeof site !== 'object' && typeof site !== 'function')) {
      throw new InvalidArgumentError('[script-site] the site must be an object; pass the host object that receives the engine notifications', { parameter: 'site' });
    }
    this.site = site;
    this.boundTo = this.callerApartment();
    this.moveTo('initialized');
  }

  /** Exposes a host object to scripts as the global `name`. */
  addNamedItem(name: string, object: unknown, options: NamedItemOptions = {}): void {
    this.checkCaller('addNamedItem');
    this.checkOpen('addNamedItem');
    if (typeof name !== 'string' || !IDENTIFIER.test(name)) throw new InvalidArgumentError(`[named-item-name] ${String(name)} is not an identifier; name items so scripts can write them`, { parameter: 'name' });
    if (this.namedItems.has(name)) throw new InvalidArgumentError(`[named-item-exists] a named item ${name} exists already; pick another name or reset the engine`, { parameter: 'name' });
    this.namedItems.set(name, { object, persistent: options.persistent === true });
    this.defineItem(name, object);
  }

  /**
   * Adds script text. Before the engine is started it is kept and run on start; once started it
   * runs now. Syntax errors reject with a ScriptError carrying the 1-based line and column.
   */
  async parseScriptText(code: string, options: ParseScriptOptions = {}): Promise<void> {
    this.checkCaller('parseScriptText');
    this.checkOpen('parseScriptText');
    if (typeof code !== 'string') throw new InvalidArgumentError('[script-text] script text must be a string', { parameter: 'code' });
    const compiled = this.sandbox.compile(code, options.name);
    this.filenames.add(compiled.filename);
    if (options.persistent === true) this.persistentScripts.push({ code, name: compiled.filename });
    if (!hasRunGlobalCode(this.state)) {
      this.pendingScripts.push({ code, name: compiled.filename, timeoutMs: options.timeoutMs });
      return;
    }
    await this.runGlobal(compiled.script, compiled.filename, options.timeoutMs ?? this.callTimeoutMs);
  }

  /** Moves to `state`; the state in force is a no-op; closed is final. */
  async setState(state: ScriptEngineState): Promise<void> {
    this.checkCaller('setState');
    if (!isScriptEngineState(state)) throw new InvalidArgumentError(`[script-state] ${String(state)} is not a script engine state`, { parameter: 'state' });
    if (state === this.state) return;
    this.checkOpen('setState');
    if (this.state === 'uninitialized' && state === 'initialized') throw unexpected('[script-no-site] an engine is initialized by setting its site; call setSite(site)');
    if (!isLegalMove(this.state, state)) throw unexpected(`[script-state-order] cannot go from ${this.state} to ${state}; follow uninitialized -> initialized -> started -> connected <-> disconnected`);
    if (state === 'uninitialized') return this.resetNow();
    if (state === 'closed') return this.closeNow();
    const runPending = !hasRunGlobalCode(this.state);
    this.moveTo(state);
    if (runPending) await this.runPendingScripts();
  }

  /** setState('uninitialized'): drops site, non-persistent items and script text; keeps persistent code; unbinds. */
  reset(): Promise<void> {
    return this.setState('uninitialized');
  }

  /** Calls the global function `name` defined by script; awaits it if it returns a promise. */
  invoke(name: string, ...args: unknown[]): Promise<unknown> {
    return this.invokeWithOptions(name, args);
  }

  /** invoke() with a per-call time limit that covers awaits too. */
  invokeWithOptions(name: string, args: unknown[], options: InvokeOptions = {}): Promise<unknown> {
    try {
      this.checkCaller('invoke');
      this.checkStarted('invoke');
      if (typeof name !== 'string') throw new InvalidArgumentError('[script-function] the function name must be a string', { parameter: 'name' });
    } catch (error) {
      return Promise.reject(error);
    }
    const timeoutMs = options.timeoutMs ?? this.callTimeoutMs;
    return new Promise<unknown>((resolve, reject) => {
      const invocation: Invocation = { name, deadline: timeoutMs === undefined ? undefined : Date.now() + timeoutMs, resolve, reject, timer: undefined };
      this.track(invocation, timeoutMs);
      const scriptArgs = args.map((a) => this.membrane.toScript(a));
      this.runner
        .run(() => this.sandbox.call(name, scriptArgs, this.remaining(invocation)))
        .then(
          (outcome) => ('pending' in outcome ? outcome.pending.then((o) => this.finish(invocation, o)) : this.finish(invocation, outcome)),
          (error: unknown) => this.runFailed(error, invocation),
        );
    });
  }

  /**
   * Fires an event into script: runs `<item>_<event>(...args)` if the engine is connected and the
   * script defines it. Resolves true when a handler ran, false when events are not hooked or none is defined.
   */
  async fireEvent(itemName: string, eventName: string, ...args: unknown[]): Promise<boolean> {
    this.checkCaller('fireEvent');
    this.checkOpen('fireEvent');
    if (this.state !== 'connected') return false;
    try {
      await this.invoke(`${itemName}_${eventName}`, ...args);
      return true;
    } catch (error) {
      if (error instanceof NoInterfaceError) return false;
      throw error;
    }
  }

  /** A host-side facade: `dispatch.fn(a, b)` is invoke('fn', a, b). */
  getScriptDispatch(): Record<string, (...args: unknown[]) => Promise<unknown>> {
    this.checkCaller('getScriptDispatch');
    this.checkStarted('getScriptDispatch');
    return new Proxy(Object.create(null) as Record<string, (...args: unknown[]) => Promise<unknown>>, {
      get: (_target, key) => (typeof key === 'string' && key !== 'then' ? (...args: unknown[]) => this.invoke(key, ...args) : undefined),
    });
  }

  /**
   * Cancels every call of this engine that is waiting on an await. From the engine's own thread
   * that is all an interrupt can do (no script is running while this runs); to stop a script that
   * is running, call interruptScript(engine.interruptHandle()) from another thread.
   */
  interrupt(): void {
    this.cancelInvocations('[script-interrupted] the call was interrupted while it awaited; call the engine again');
  }

  /** A new engine on this thread with the same persistent code and items, no site, uninitialized. */
  clone(options: VmScriptEngineOptions = {}): VmScriptEngine {
    this.checkOpen('clone');
    return VmScriptEngine.fromPersistentImage(this.persistentImage(), { name: this.name, callerApartment: this.callerApartment, callTimeoutMs: this.callTimeoutMs, ...options });
  }

  /** The persistent scripts and named items, to build a clone in another apartment with fromPersistentImage(). */
  persistentImage(): PersistentScriptImage {
    this.checkOpen('persistentImage');
    return {
      scripts: this.persistentScripts.map((s) => ({ ...s })),
      namedItems: [...this.namedItems].filter(([, item]) => item.persistent).map(([name, item]) => ({ name, object: item.object })),
    };
  }

  /** Closes the engine: pending calls are cancelled, everything is dropped; closing twice is a no-op. */
  close(): void {
    if (this.state === 'closed') return;
    this.checkCaller('close');
    this.closeNow();
  }

  // ---- internals (owner thread only) ----

  private checkCaller(operation: string): void {
    if (this.boundTo === undefined) return;
    const caller = this.callerApartment();
    if (caller === this.boundTo) return;
    throw new WrongThreadError(
      `[script-engine-bound] ${operation} called from apartment ${caller}, but this engine is bound to apartment ${this.boundTo} since its site was set; call it from there, or reset or close it there first (interrupt, clone and getState work from anywhere)`,
      { code: 'E_UNEXPECTED' },
    );
  }

  private checkOpen(operation: string): void {
    if (this.state === 'closed') throw unexpected(`[script-engine-closed] ${operation} on a closed engine; closed is final, clone or create another engine`);
  }

  private checkStarted(operation: string): void {
    this.checkOpen(operation);
    if (!hasRunGlobalCode(this.state)) throw unexpected(`[script-not-started] ${operation} while ${this.state}; set the site and setState('started') first so the global code runs`);
  }

  private moveTo(state: ScriptEngineState): void {
    this.state = state;
    this.control.publishState(state);
    this.notifySite('onStateChange', state);
  }

  private notifySite(callback: 'onStateChange' | 'onScriptError', value: ScriptEngineState | Error): void {
    const site = this.site;
    const fn = site?.[callback];
    if (typeof fn !== 'function') return;
    try {
      const result = (fn as (v: unknown) => unknown).call(site, value);
      if (result instanceof Promise) result.catch(() => undefined);
    } catch {
      // The site's notification is advisory; a failing site must not break the engine.
    }
  }

  private newMembrane(): HostMembrane {
    return new HostMembrane(this.sandbox.Promise, () => this.queueDrain());
  }

  private defineItem(name: string, object: unknown): void {
    Object.defineProperty(this.sandbox.global, name, { value: this.membrane.toScript(object), enumerable: true, configurable: true, writable: false });
  }

  private queuePersistent(script: { code: string; name?: string }): void {
    const compiled = this.sandbox.compile(script.code, script.name);
    this.filenames.add(compiled.filename);
    this.persistentScripts.push({ code: script.code, name: compiled.filename });
    this.pendingScripts.push({ code: script.code, name: compiled.filename });
  }

  private async runPendingScripts(): Promise<void> {
    const scripts = this.pendingScripts;
    this.pendingScripts = [];
    let first: Error | undefined;
    for (const entry of scripts) {
      try {
        const compiled = this.sandbox.compile(entry.code, entry.name);
        await this.runGlobal(compiled.script, compiled.filename, entry.timeoutMs ?? this.callTimeoutMs);
      } catch (error) {
        first ??= error as Error;
      }
    }
    if (first) throw first;
  }

  private async runGlobal(script: import('node:vm').Script, filename: string, timeoutMs: number | undefined): Promise<void> {
    this.filenames.add(filename);
    const sandbox = this.sandbox;
    await this.runner.run(() => {
      try {
        sandbox.runGlobal(script, timeoutMs);
      } catch (error) {
        if (isVmTimeout(error)) throw new CallTimeoutError(`[script-timeout] the global code of ${filename} ran longer than ${timeoutMs} ms; make it shorter or give a larger timeoutMs`);
        throw this.reported(scriptErrorOf(describeThrown(error), this.filenames, error));
      }
    });
  }

  private reported(error: Error): Error {
    this.notifySite('onScriptError', error);
    return error;
  }

  private track(invocation: Invocation, timeoutMs: number | undefined): void {
    this.invocations.add(invocation);
    this.control.publishPending(this.invocations.size);
    if (timeoutMs !== undefined) {
      invocation.timer = setTimeout(() => this.settle(invocation, new CallTimeoutError(`[script-timeout] ${invocation.name} did not finish within ${timeoutMs} ms; make it faster or give a larger timeoutMs`)), timeoutMs);
    }
  }

  private settle(invocation: Invocation, error: Error | undefined, value?: unknown): void {
    if (!this.invocations.delete(invocation)) return;
    this.control.publishPending(this.invocations.size);
    if (invocation.timer) clearTimeout(invocation.timer);
    if (error) invocation.reject(error);
    else invocation.resolve(value);
  }

  private finish(invocation: Invocation, outcome: ScriptOutcome): void {
    if (outcome.ok) return this.settle(invocation, undefined, this.membrane.toHost(outcome.value));
    if (outcome.error.missing === true) {
      return this.settle(invocation, new NoInterfaceError(`[script-no-function] the script defines no function ${invocation.name}; check the name or parse the script that defines it`));
    }
    this.settle(invocation, this.reported(scriptErrorOf(outcome.error, this.filenames)));
  }

  private runFailed(error: unknown, invocation: Invocation | undefined): void {
    if (isVmTimeout(error)) {
      // A vm time limit ends the run and with it the context's queued continuations of every call.
      const now = Date.now();
      for (const pending of [...this.invocations]) {
        const expired = pending === invocation || (pending.deadline !== undefined && pending.deadline <= now);
        this.settle(pending, expired
          ? new CallTimeoutError(`[script-timeout] ${pending.name} ran past its time limit; make it faster or give a larger timeoutMs`)
          : new CallCanceledError('[script-interrupted] another call on this engine hit its time limit, which ended this call too; call again'));
      }
      return;
    }
    if (invocation) this.settle(invocation, error instanceof Error ? error : new CallCanceledError(String(error)));
  }

  private remaining(invocation: Invocation): number | undefined {
    return invocation.deadline === undefined ? undefined : invocation.deadline - Date.now();
  }

  private queueDrain(): void {
    if (this.drainQueued || this.state === 'closed') return;
    this.drainQueued = true;
    const sandbox = this.sandbox;
    this.runner
      .run(() => {
        this.drainQueued = false;
        let limit: number | undefined;
        for (const invocation of this.invocations) {
          const left = this.remaining(invocation);
          if (left !== undefined) limit = Math.min(limit ?? left, left);
        }
        sandbox.drain(limit);
      })
      .catch((error: unknown) => {
        this.drainQueued = false;
        this.runFailed(error, undefined);
      });
  }

  private cancelInvocations(message: string): void {
    for (const invocation of [...this.invocations]) this.settle(invocation, new CallCanceledError(message));
  }

  private resetNow(): void {
    this.cancelInvocations('[script-engine-reset] the engine was reset while this call waited; call it again after restarting');
    this.site = undefined;
    this.boundTo = undefined;
    for (const [name, item] of [...this.namedItems]) if (!item.persistent) this.namedItems.delete(name);
    this.sandbox = new ScriptSandbox(this.name);
    this.membrane = this.newMembrane();
    this.drainQueued = false;
    for (const [name, item] of this.namedItems) this.defineItem(name, item.object);
    this.pendingScripts = this.persistentScripts.map((s) => ({ ...s }));
    this.moveTo('uninitialized');
  }

  private closeNow(): void {
    this.cancelInvocations('[script-engine-closed] the engine was closed while this call waited');
    this.moveTo('closed');
    this.runner.close();
    this.cancelChannel.close();
    this.site = undefined;
    this.boundTo = undefined;
    this.namedItems.clear();
    this.pendingScripts = [];
  }
}

function unexpected(message: string): ApartmentError {
  return new ApartmentError('E_UNEXPECTED', message);
}

function isVmTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}
