// Each thread's view of the apartment it belongs to, for code running inside an apartment:
// `currentApartment()` answers which apartment this is and creates objects through the runtime;
// `currentCall()` says who is calling, at the start of a method served for another apartment.
import { NotInitializedError } from './errors.js';

/** What kind of apartment a thread belongs to. */
export type ApartmentKind = 'main' | 'worker';

/** The apartment the calling code runs in, as user code sees it. */
export interface ApartmentContext {
  readonly id: number;
  readonly name: string;
  readonly kind: ApartmentKind;
  /** Names of the classes registered with the runtime. */
  readonly classes: readonly string[];
  /** External creation: the assignment policy places `apartment` classes; returns a proxy when it lands elsewhere. */
  createObject<T = unknown>(className: string, ...args: unknown[]): Promise<T>;
  /** In-process creation: the contract × creator matrix decides (an `apartment` class lands here). */
  createInstance<T = unknown>(className: string, ...args: unknown[]): Promise<T>;
}

/** Facts about the call being served, valid synchronously at the start of the method. */
export interface CallInfo {
  /** The apartment the call came from. */
  readonly callerApartment: number;
  /** The logical thread the call belongs to. */
  readonly causality: number;
  /** Aborted when the caller cancels the call or it passes its deadline; read it at the start. */
  readonly signal: AbortSignal;
}

// Per thread: set when the thread joins an apartment, cleared when it leaves.
let current: ApartmentContext | undefined;
let currentCallInfo: CallInfo | undefined;

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

/** The call being served, when read synchronously at the start of a method invoked remotely. */
export function currentCall(): CallInfo | undefined {
  return currentCallInfo;
}

/** Runtime internals: join (or, with undefined, leave) an apartment on this thread. */
export function setCurrentApartment(context: ApartmentContext | undefined): void {
  current = context;
}

/** Runtime internals: the dispatcher marks the call it is starting, and clears it after. */
export function setCurrentCall(info: CallInfo | undefined): void {
  currentCallInfo = info;
}
