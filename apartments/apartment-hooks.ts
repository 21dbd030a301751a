// Attach/detach notifications, the DLL entry point done right: a module registered for apartment
// hooks gets `attach` in every apartment — also in those that existed before it registered
// (replayed) — before any class of the runtime is constructed there, and `detach` when the
// apartment closes or dies. A hook that throws is reported and never takes the apartment down.
// Owner apartment only.
import type { ApartmentContext } from './context.js';
import { CallTimeoutError, InvalidArgumentError, ModuleLoadError } from '../marshal/errors.js';
import { settlesWithin } from '../marshal/long-timer.js';
import { checkOptionKeys, optionKeys } from '../marshal/option-keys.js';

/** How long the main apartment waits for each of its detach hooks when the runtime closes. */
export const DETACH_GRACE_MS = 2_000;

/** Why an apartment is detaching. */
export type DetachReason = 'close' | 'fault' | 'exit';

/** What a hooks module exports (as its named export or default). */
export interface ApartmentHooks {
  attach?(apartment: ApartmentContext): void | Promise<void>;
  /** Keep it synchronous: when the apartment dies, nothing it starts asynchronously completes. */
  detach?(apartment: ApartmentContext, reason: DetachReason): void | Promise<void>;
}

/** Where a hooks module is: structured-cloneable, sent to every apartment. */
export interface HooksRegistration {
  readonly module: string;
  readonly export: string;
}

/** What a host passes to registerApartmentHooks(). */
export interface HooksModule {
  module: string | URL;
  export?: string;
}
/** The keys registerApartmentHooks() takes; any other is refused. */
const HOOKS_MODULE_KEYS = optionKeys<HooksModule>({ module: true, export: true });

/** What registerApartmentHooks() was given, checked: an absolute file or data URL, and an export name. */
export function checkHooksRegistration(registration: HooksModule | undefined): HooksRegistration {
  if (registration !== null && typeof registration === 'object') checkOptionKeys(registration, HOOKS_MODULE_KEYS, 'registerApartmentHooks()', 'registration');
  const module = registration?.module instanceof URL ? registration.module.href : registration?.module;
  if (typeof module !== 'string' || !/^(file|data):/.test(module)) {
    throw new InvalidArgumentError('[hooks-module] registerApartmentHooks needs { module: <absolute file URL> }', { parameter: 'module' });
  }
  const name = registration!.export ?? 'default';
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError(`[hooks-export] registerApartmentHooks needs export to name the hooks object ${module} exports, or to be left out for its default export; got ${typeof name}`, { parameter: 'export' });
  }
  return { module, export: name };
}

const keyOf = (registration: HooksRegistration): string => `${registration.module}#${registration.export}`;

/** One apartment's registered hooks and their attach/detach bookkeeping. */
export class HookRunner {
  private readonly attached: { registration: HooksRegistration; hooks: ApartmentHooks }[] = [];
  private readonly known = new Set<string>();
  /** Registrations whose module did not load here, or lacked the export, with why. */
  private readonly unloaded = new Map<string, Error>();
  private settled: Promise<void> = Promise.resolve();
  private pending = 0;
  private detached = false;

  constructor(
    private readonly context: ApartmentContext,
    private readonly report: (message: string) => void,
    /**
     * How long an attach may run before the apartment stops waiting for it: the apartment's call
     * deadline. In the main apartment nothing else would end the host's wait, or the constructions
     * held behind the attach; in a worker apartment the calls it holds fail at their own deadlines,
     * but every later one would be held too, and the apartment stay unusable until it closed.
     */
    private readonly attachTimeoutMs = Infinity,
  ) {}

  /** Resolves once every attach registered so far has run (classes are constructed after it). */
  get ready(): Promise<void> {
    return this.settled;
  }

  /** Whether an attach registered here has not finished yet (calls are held meanwhile). */
  get attaching(): boolean {
    return this.pending > 0;
  }

  /**
   * Load a hooks module and run its attach here; registering the same module twice is a no-op.
   * Fails with CallTimeoutError (also reported) when the attach outlasts `attachTimeoutMs`: it is
   * left running, and what waited for it (later attaches, constructions, held calls) goes on.
   */
  register(registration: HooksRegistration): Promise<void> {
    const key = keyOf(registration);
    if (this.known.has(key)) return this.settled;
    this.known.add(key);
    this.unloaded.delete(key);
    this.pending++;
    const attached = this.settled.then(() => this.attach(registration));
    this.settled = attached.catch(() => undefined).finally(() => {
      this.pending--;
    });
    return attached;
  }

  /**
   * Run every detach hook once, in reverse order of attach, waiting for each — at most `graceMs`
   * (then it is reported and the next one runs): a hook that never settles must not keep its
   * apartment, or the runtime, from closing.
   */
  async detach(reason: DetachReason, graceMs = Infinity): Promise<void> {
    for (const run of this.detachRuns(reason, graceMs)) await run();
  }

  /** Run detach hooks synchronously (the thread is ending: nothing asynchronous can finish). */
  detachNow(reason: DetachReason): void {
    for (const run of this.detachRuns(reason)) void run();
  }

  /** The detach calls still to make (none the second time), each reporting its own failure, or its overrun of `graceMs`. */
  private detachRuns(reason: DetachReason, graceMs = Infinity): (() => Promise<void>)[] {
    if (this.detached) return [];
    this.detached = true;
    return [...this.attached].reverse().map(({ registration, hooks }) => async () => {
      try {
        const running = Promise.resolve(hooks.detach?.(this.context, reason));
        if (!(await settlesWithin(running, graceMs))) {
          this.report(`[hook-detach] detach of ${registration.module} in apartment ${this.context.id} had not settled ${graceMs} ms after it began; it was left running and the close went on — make detach settle (keep it synchronous)`);
          return;
        }
        await running;
      } catch (err) {
        this.report(`[hook-detach] detach of ${registration.module} failed in apartment ${this.context.id}: ${(err as Error)?.message ?? String(err)}`);
      }
    });
  }

  /**
   * Why `registration` did not load here, if it did not (a module that is not there, or lacks the
   * export); it is forgotten, so registering it again tries again.
   */
  loadFailure(registration: HooksRegistration): Error | undefined {
    return this.unloaded.get(keyOf(registration));
  }

  private async attach(registration: HooksRegistration): Promise<void> {
    let hooks: ApartmentHooks;
    try {
      hooks = await loadHooks(registration);
    } catch (err) {
      this.known.delete(keyOf(registration));
      this.unloaded.set(keyOf(registration), err as Error);
      this.report(`[hook-attach] attach of ${registration.module} failed in apartment ${this.context.id}: ${(err as Error).message}`);
      return;
    }
    this.attached.push({ registration, hooks });
    let running: Promise<unknown>;
    try {
      running = Promise.resolve(hooks.attach?.(this.context));
    } catch (err) {
      running = Promise.reject(err);
    }
    let late = false;
    const settled = running.then(() => false as const, (err: unknown) => {
      this.report(`[hook-attach] attach of ${registration.module} failed in apartment ${this.context.id}${late ? ', after its time' : ''}: ${(err as Error)?.message ?? String(err)}`);
      return false as const;
    });
    if (await settlesWithin(settled, this.attachTimeoutMs)) return;
    late = true;
    const overrun = new CallTimeoutError(`[hook-attach] attach of ${registration.module} had not settled in apartment ${this.context.id} within ${this.attachTimeoutMs} ms; it was left running, and the apartment no longer waits for it — make attach settle, or raise the runtime's defaultTimeoutMs if it is only slow`, { started: true });
    // Reported here as well: a worker apartment's attach at its start has no caller to tell.
    this.report(overrun.message);
    throw overrun;
  }
}

/** The hooks object `registration` names; ModuleLoadError when its module does not load or lacks it. */
async function loadHooks(registration: HooksRegistration): Promise<ApartmentHooks> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(registration.module)) as Record<string, unknown>;
  } catch (err) {
    throw new ModuleLoadError(`[hooks-module] ${registration.module} could not be loaded (${(err as Error)?.message ?? String(err)}); check the module URL`, { cause: err });
  }
  const hooks = mod[registration.export];
  if (!hooks || typeof hooks !== 'object') {
    throw new ModuleLoadError(`[hooks-export] ${registration.module} has no hooks object export '${registration.export}'; name the export that holds { attach, detach }`);
  }
  return hooks as ApartmentHooks;
}
