// Named shared objects from any apartment: `named.mutex(name)`, `named.memory(name, bytes, init)`,
// `named.counter(name)` create on first open and open afterwards, atomically across racing
// apartments (the main apartment decides); `once(name, factory)` builds a value exactly once. An
// apartment whose link to the main one shares no memory (a process apartment) gets the process-wide
// equivalents: a mutex taken through the main apartment and a copy of the memory kept coherent at
// that mutex's lock and unlock (remote-mutex.ts, memory-mirrors.ts).
import { callMain, mainService, sharesMemoryWithMain } from '../../apartments/main-call.js';
import { withServedCall } from '../../apartments/served-call-signal.js';
import { callOptions, checkOptionsObject, type CallOptions } from '../../marshal/call-options.js';
import { isRuntimeError } from '../../marshal/clone-failure.js';
import { optionKeys } from '../../marshal/option-keys.js';
import { CallCanceledError, InvalidArgumentError, MarshalError, shownValue } from '../../marshal/errors.js';
import { askTicketed } from '../queued-wait.js';
import { AtomicCounter } from './atomic-ref-count.js';
import { closeMirror, openMirror, publishedMirror } from './memory-mirrors.js';
import type { NamedGrant, NamedKind } from './named-registry.js';
import { NamedService, type MirrorGrant } from './named-service.js';
import { RemoteMutex } from './remote-mutex.js';
import { SharedMutex, type Mutex, type SharedMutexOptions } from './shared-mutex.js';

const MUTEX_BYTES = new SharedMutex().handle.sab.byteLength;

/** An open handle on a named object; close() (or dispose) releases it, once. */
export class NamedHandle<T> implements AsyncDisposable {
  private closed = false;
  /** `ticket`: the open request this handle was granted by, which its close names. */
  constructor(readonly name: string, readonly value: T, readonly created: boolean, private readonly onClose?: () => void, private readonly ticket?: number) {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose?.();
    await mainService(NamedService).close(this.name, this.ticket);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * A wait for `name` in the main apartment's registry, asked while this apartment serves a call, is
 * that call's (served-call-signal.ts): once its caller cancels it or it passes its deadline, the
 * wait ends at once — the main apartment drops it, and what crossed the cancel is given back by
 * ticket — instead of at the wait's own call deadline. Read before the first await.
 */
function servedWait(): { options: CallOptions; signal: AbortSignal | undefined } {
  const signal = withServedCall(undefined);
  return { options: callOptions({ signal }), signal };
}

/**
 * Ask with a ticket (askTicketed): what was granted, with the ticket its handle's close names. A
 * wait ended by `signal` (the served call's) fails with CallCanceledError [named-canceled].
 */
async function ticketed<R extends object>(name: string, signal: AbortSignal | undefined, ask: (ticket: number) => Promise<R>, giveUp: (ticket: number) => Promise<void>): Promise<R & { ticket: number }> {
  try {
    const { granted, ticket } = await askTicketed(ask, giveUp);
    return { ...granted, ticket };
  } catch (err) {
    if (signal?.aborted && isRuntimeError(err, CallCanceledError)) {
      throw new CallCanceledError(`[named-canceled] the wait for '${name}' was given up: the call this apartment served while it waited was cancelled or passed its deadline`, { cause: err });
    }
    throw err;
  }
}

/** Open `name` in the main apartment's registry, which hands out its memory: only over a link that shares memory. */
async function open(kind: NamedKind, name: string, bytes: number): Promise<NamedGrant & { ticket: number }> {
  if (!sharesMemoryWithMain()) {
    throw new MarshalError(`[no-shared-memory] named ${kind} '${name}' lives in memory shared with the main apartment, and this apartment's link to it shares none; use named mutexes and memory here, or named counters in apartments whose links share memory`, { path: `named.${kind}('${name}')` });
  }
  const { options, signal } = servedWait();
  return ticketed(name, signal, (t) => callMain(NamedService, 'open', [kind, name, bytes, t], options), (t) => mainService(NamedService).giveUpOpen(name, t));
}

/** openMirror() with a ticket, as open(). */
function openMirrored(kind: 'mutex' | 'memory', name: string, bytes: number): Promise<MirrorGrant & { ticket: number }> {
  const { options, signal } = servedWait();
  return ticketed(name, signal, (t) => callMain(NamedService, 'openMirror', [kind, name, bytes, t], options), (t) => mainService(NamedService).giveUpOpen(name, t));
}

/** Run the creator's `init` on `memory`, then let everyone see it; on failure the next waiter creates instead. */
async function initialise(name: string, memory: SharedArrayBuffer, init: ((memory: SharedArrayBuffer) => void | Promise<void>) | undefined, contents: () => Uint8Array | undefined): Promise<void> {
  try {
    await init?.(memory);
  } catch (err) {
    // Never publish half-initialised memory.
    await mainService(NamedService).abandon(name);
    throw err;
  }
  await mainService(NamedService).publish(name, contents());
}

/** Named memory for an apartment that shares none with the main one: a copy, coherent at named locks. */
async function mirroredMemory(name: string, bytes: number, init: ((memory: SharedArrayBuffer) => void | Promise<void>) | undefined): Promise<NamedHandle<SharedArrayBuffer>> {
  const g = await openMirrored('memory', name, bytes);
  const memory = openMirror(name, bytes, g.bytes);
  if (g.create) {
    try {
      await initialise(name, memory, init, () => publishedMirror(name));
    } catch (err) {
      closeMirror(name);
      throw err;
    }
  }
  return new NamedHandle(name, memory, g.create, () => closeMirror(name), g.ticket);
}

/** The keys named.mutex() takes (its name is the first argument); any other is refused. */
const NAMED_MUTEX_OPTION_KEYS = optionKeys<Omit<SharedMutexOptions, 'name'>>({ level: true });

/** Named shared objects, usable from every apartment and the free pool. */
export const named = {
  /** A named mutex: a SharedMutex, or where no memory is shared with the main apartment, one taken through it (lock() only). */
  async mutex(name: string, options: Omit<SharedMutexOptions, 'name'> = {}): Promise<NamedHandle<Mutex>> {
    checkOptionsObject(options, 'named.mutex(name, options)', '{ level: 1 }', 'mutex-options', NAMED_MUTEX_OPTION_KEYS);
    if (!sharesMemoryWithMain()) {
      if (options.level !== undefined && !Number.isFinite(options.level)) {
        throw new InvalidArgumentError(`[mutex-level] a lock level must be a finite number; got ${shownValue(options.level)}`, { parameter: 'level' });
      }
      const g = await openMirrored('mutex', name, MUTEX_BYTES);
      return new NamedHandle(name, new RemoteMutex(name, options.level), g.create, undefined, g.ticket);
    }
    const g = await open('mutex', name, MUTEX_BYTES);
    return new NamedHandle(name, SharedMutex.fromHandle({ sab: g.sab, name, level: options.level }), g.create, undefined, g.ticket);
  },

  async counter(name: string): Promise<NamedHandle<AtomicCounter>> {
    const g = await open('counter', name, 4);
    return new NamedHandle(name, new AtomicCounter(g.sab), g.create, undefined, g.ticket);
  },

  /** Shared memory of `bytes`; the one creator runs `init` on it before anyone else can see it. */
  async memory(name: string, bytes: number, init?: (memory: SharedArrayBuffer) => void | Promise<void>): Promise<NamedHandle<SharedArrayBuffer>> {
    if (!Number.isInteger(bytes) || bytes <= 0) throw new InvalidArgumentError(`[named-size] bytes must be a whole number > 0; got ${shownValue(bytes)}`, { parameter: 'bytes' });
    // Before opening: the creator failed with a TypeError once it had the memory, and an opener was never told.
    if (init !== undefined && typeof init !== 'function') {
      throw new InvalidArgumentError(`[named-init] named.memory(name, bytes, init): init must be a function that fills the new memory, or left out; got ${typeof init}`, { parameter: 'init' });
    }
    if (!sharesMemoryWithMain()) return mirroredMemory(name, bytes, init);
    const g = await open('memory', name, bytes);
    if (g.create) await initialise(name, g.sab, init, () => undefined);
    return new NamedHandle(name, g.sab, g.create, undefined, g.ticket);
  },
};

/** Build a value once across all apartments; racing callers wait for and receive the same value. */
export async function once<T>(name: string, factory: () => T | Promise<T>): Promise<T> {
  // Before asking: a waiter given the build would fail it for everyone waiting with a TypeError.
  if (typeof factory !== 'function') throw new InvalidArgumentError(`[once] once('${shownValue(name)}', factory) needs a function that builds the value; got ${typeof factory}`, { parameter: 'factory' });
  const { options, signal } = servedWait();
  for (;;) {
    const r = await ticketed(name, signal, (t) => callMain(NamedService, 'onceBegin', [name, t], options), (t) => mainService(NamedService).giveUpOnce(name, t));
    if (!r.build) return r.value as T;
    let value: T;
    try {
      value = await factory();
    } catch (err) {
      await mainService(NamedService).onceFailed(name);
      throw err;
    }
    await mainService(NamedService).onceDone(name, value);
    return value;
  }
}
