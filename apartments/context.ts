// Each thread's view of the apartment it belongs to, for code running inside an apartment:
// `currentApartment()` answers which apartment this is and creates objects through the runtime;
// `currentCall()` says who is calling, at the start of a method served for another apartment.
import { AsyncLocalStorage } from 'node:async_hooks';
import { ApartmentError, ChangedModeError, InvalidArgumentError, NotInitializedError, shownValue } from '../marshal/errors.js';
import type { MessageFilter } from './admission.js';
import type { AssignmentChoice } from './assignment-names.js';
import type { SharedLease } from './shared-lease.js';

/** What kind of apartment a thread belongs to. */
export type ApartmentKind = 'main' | 'worker' | 'pool';

/** The apartment the calling code runs in, as user code sees it. */
export interface ApartmentContext {
  readonly id: number;
  readonly name: string;
  readonly kind: ApartmentKind;
  /** Names of the classes registered with the runtime. */
  readonly classes: readonly string[];
  /** External creation: the assignment policy places `apartment` classes; returns a proxy when it lands elsewhere. */
  createObject<T = unknown>(className: string, ...args: unknown[]): Promise<T>;
  /** External creation with a named assignment policy for this one object. */
  createObjectWith<T = unknown>(options: { assignment?: AssignmentChoice }, className: string, ...args: unknown[]): Promise<T>;
  /** In-process creation: the contract × creator matrix decides (an `apartment` class lands here). */
  createInstance<T = unknown>(className: string, ...args: unknown[]): Promise<T>;
  /** Run `hook` when this apartment is reset for its next user (pool checkin). */
  onReset(hook: () => void | Promise<void>): void;
  /** Lease a shared resource defined on the runtime; release the lease when done. */
  acquireShared<T = unknown>(name: string): Promise<SharedLease<T>>;
  /** Install (or with undefined remove) this apartment's message filter (COM's CoRegisterMessageFilter). */
  setMessageFilter(filter: MessageFilter | undefined): void;
}

/** Facts about the call being served; valid throughout the method, across its awaits. */
export interface CallInfo {
  /** The apartment the call came from. */
  readonly callerApartment: number;
  /** The logical thread the call belongs to. */
  readonly causality: number;
  /** Aborted when the caller cancels the call or it passes its deadline; read it at the start. */
  readonly signal: AbortSignal;
  /** The method is input-synchronous (its class lists it in `static inputSync`): it may not call other apartments. */
  readonly inputSync?: boolean;
}

// Per thread: set when the thread joins an apartment, cleared when it leaves. Code in the apartment
// sees `current`, a small view; the engine's own object (endpoint, channels, ring memory, export
// table) stays in `engine`, reached by the runtime through local-context.ts, never handed to users.
let current: ApartmentContext | undefined;
let engine: ApartmentContext | undefined;
const views = new WeakMap<ApartmentContext, ApartmentContext>();
// The call being served follows its async continuations, so calls made after an await still
// carry the chain's causality id (what call-chain reentrancy needs).
const callStorage = new AsyncLocalStorage<CallInfo>();

/** The apartment this thread belongs to; NotInitializedError when it never joined one. */
export function currentApartment(): ApartmentContext {
  if (!current) {
    throw new NotInitializedError('[not-initialized] this thread is not in an apartment; start a runtime with Runtime.start() or run this code inside an apartment');
  }
  return current;
}

/** Whether this thread belongs to an apartment. */
export function inApartment(): boolean {
  return current !== undefined;
}

/** The call being served by the code that asks (also after its awaits), or undefined. */
export function currentCall(): CallInfo | undefined {
  return callStorage.getStore() ?? syncCall;
}

// The call being served when async tracking is off for this thread: valid only until its first await.
let syncCall: CallInfo | undefined;
let trackAsync = true;

/**
 * Runtime internals: whether this thread follows calls across awaits (AsyncLocalStorage, which turns
 * on async hooks where Node's AsyncLocalStorage needs them). An apartment created with
 * `asyncCausality: false` turns it off.
 */
export function setAsyncCallTracking(on: boolean): void {
  trackAsync = on;
}

/** Whether this thread follows calls across awaits (lock-order bookkeeping follows async flows only then). */
export function asyncCallTracking(): boolean {
  return trackAsync;
}

/** Runtime internals: join (or, with undefined, leave) an apartment on this thread. */
export function setCurrentApartment(context: ApartmentContext | undefined): void {
  engine = context;
  current = context ? publicView(context) : undefined;
  joins = context ? 1 : 0;
}

/** Runtime internals: the engine object this thread joined with (local-context.ts gives it its type). */
export function currentEngine(): ApartmentContext {
  currentApartment();
  return engine!;
}

/**
 * The view of an apartment that user code gets: the members of ApartmentContext and nothing else,
 * frozen, one per apartment. Its methods forward to the engine object, which it does not expose.
 */
export function publicView(context: ApartmentContext): ApartmentContext {
  let view = views.get(context);
  if (view) return view;
  view = Object.freeze({
    id: context.id,
    name: context.name,
    kind: context.kind,
    get classes() {
      return context.classes;
    },
    createObject: <T>(className: string, ...args: unknown[]) => context.createObject<T>(className, ...args),
    createObjectWith: <T>(options: { assignment?: AssignmentChoice }, className: string, ...args: unknown[]) => context.createObjectWith<T>(options, className, ...args),
    createInstance: <T>(className: string, ...args: unknown[]) => context.createInstance<T>(className, ...args),
    onReset: (hook: () => void | Promise<void>) => context.onReset(hook),
    acquireShared: <T>(name: string) => context.acquireShared<T>(name),
    setMessageFilter: (filter: MessageFilter | undefined) => context.setMessageFilter(filter),
    // console.log() prints one short line, not the view's members.
    [Symbol.for('nodejs.util.inspect.custom')]: () => `ApartmentContext { apartment '${context.name}' (${context.id}), ${context.kind} }`,
  });
  views.set(context, view);
  return view;
}

/** The threading model a thread's apartment has: single-threaded ('apartment') or the free pool ('free'). */
export type ThreadModel = 'apartment' | 'free';

// Per thread: how many times the thread joined its apartment (the runtime's own join counts once).
let joins = 0;

/**
 * COM's CoInitializeEx for a thread the runtime already made an apartment: joining again with the
 * same model succeeds and is counted; another model fails with ChangedModeError and changes
 * nothing; a thread that never joined fails with NotInitializedError. Returns the join count.
 */
export function initializeApartment(model: ThreadModel): number {
  const apt = currentApartment();
  const mine: ThreadModel = apt.kind === 'pool' ? 'free' : 'apartment';
  if (model !== 'apartment' && model !== 'free') {
    throw new InvalidArgumentError(`[initialize] the model must be 'apartment' or 'free'; got ${shownValue(model)}`, { parameter: 'model' });
  }
  if (model !== mine) {
    throw new ChangedModeError(`[changed-mode] this thread is ${mine === 'free' ? 'a free-pool thread' : 'a single-threaded apartment'}; it cannot join as '${model}' — create objects through the runtime instead`);
  }
  return ++joins;
}

/** Undo one initializeApartment(); the runtime's own join cannot be undone this way. Returns the count left. */
export function uninitializeApartment(): number {
  currentApartment();
  if (joins <= 1) {
    throw new ApartmentError('E_UNEXPECTED', '[uninitialize] more uninitializeApartment() calls than initializeApartment() calls on this thread');
  }
  return --joins;
}

/** Runtime internals: run `fn` as part of serving the call `info`. */
export function runInCall<T>(info: CallInfo, fn: () => T): T {
  if (trackAsync) return callStorage.run(info, fn);
  const outer = syncCall;
  syncCall = info;
  try {
    return fn();
  } finally {
    syncCall = outer;
  }
}
