// A mutex in shared memory, usable from every apartment and the free pool. It is a ticket lock:
// waiters are served in the order they arrived, so none starves. A waiter that gives up (timeout or
// abort) marks its ticket abandoned, and the unlocker skips abandoned tickets; both sides settle a
// ticket with compare-and-swap, so exactly one of them does. lock() waits with Atomics.waitAsync and
// never blocks the event loop; lockSync() blocks (Atomics.wait) and is refused on the main thread
// unless explicitly allowed. A mutex travels to other apartments by value (its memory is shared).
// Each ticket records the thread that took it: a turn that comes to a thread that has ended (it
// held the lock, or waited, when its apartment died) is passed on by the unlocker or by a waiter,
// which looks every DEAD_CHECK_MS (dead-threads.ts), as an abandoned Windows mutex is.
import { isMainThread, threadId } from 'node:worker_threads';
import { withServedCall } from '../../apartments/served-call-signal.js';
import { CUSTOM_MARSHAL, type CustomMarshaled } from '../../marshal/by-ref.js';
import { checkAbortSignal, checkOptionsObject } from '../../marshal/call-options.js';
import { checkOptionKeys, optionKeys } from '../../marshal/option-keys.js';
import { registerValueType } from '../../marshal/value-types.js';
import { ApartmentError, CallCanceledError, CallTimeoutError, InvalidArgumentError, shownValue } from '../../marshal/errors.js';
import { TraceKind } from '../../marshal/trace-hook.js';
import { traceLock } from '../trace/trace-mark.js';
import { isDeadThread } from './dead-threads.js';
import { claimOrder, type HeldLock, type OrderClaim, type OrderedLock } from './lock-order.js';
import { monotonicMs } from '../../marshal/monotonic-clock.js';

const NEXT = 0;
const SERVING = 1;
const SLOTS = 2;
/** At most this many waiters at once (abandoned-ticket slots, and the owner of each ticket after them). */
const MAX_WAITERS = 1024;
const OWNERS = SLOTS + MAX_WAITERS;
const CELLS = SLOTS + 2 * MAX_WAITERS;
/** This thread as a ticket's owner: its threadId + 1. */
const SELF = threadId + 1;
/** How often a waiter looks whether the turn came to a thread that has ended, ms. */
export const DEAD_CHECK_MS = 250;
const VALUE_TYPE = 'shared-mutex';

/** Options of a mutex. */
export interface SharedMutexOptions {
  /** Its name in errors and lock-order reports. */
  name?: string;
  /** Its level in the lock hierarchy (locks must be taken in ascending level order). */
  level?: number;
}
/** The keys new SharedMutex() takes; any other is refused. */
const MUTEX_OPTION_KEYS = optionKeys<SharedMutexOptions>({ name: true, level: true });

/** Options of lock() and lockSync(). */
export interface LockOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** lockSync() only: allow blocking the main thread anyway. */
  allowOnMainThread?: boolean;
}
/** The keys lock() and lockSync() take; any other is refused. */
const LOCK_OPTION_KEYS = optionKeys<LockOptions>({ timeoutMs: true, signal: true, allowOnMainThread: true });

/** What a mutex is made of, as it crosses threads. */
export interface SharedMutexHandle {
  readonly sab: SharedArrayBuffer;
  readonly name: string;
  readonly level: number | undefined;
}

/** A taken lock of any mutex: unlock() (or dispose) releases it, exactly once. */
export interface MutexGuard extends Disposable {
  unlock(): void;
}

/**
 * A mutex as its users take it: a SharedMutex, or a named mutex opened in an apartment that shares
 * no memory with the main one (a process apartment), which can be waited for only with lock().
 */
export interface Mutex {
  readonly name: string;
  readonly level: number | undefined;
  lock(options?: LockOptions): Promise<MutexGuard>;
  tryLock(): MutexGuard | undefined;
  lockSync(options?: LockOptions): MutexGuard;
}

/** A held lock: unlock() (or dispose) releases it, exactly once. */
export class LockGuard implements MutexGuard {
  private released = false;
  constructor(private readonly mutex: SharedMutex, private readonly ticket: number, private readonly held: HeldLock) {}

  unlock(): void {
    if (this.released) {
      throw new ApartmentError('E_UNEXPECTED', `[unlock-twice] '${this.mutex.name}' was already unlocked by this guard; unlock each acquisition once`);
    }
    this.released = true;
    this.held.release();
    // Recorded before the next waiter can take the lock, so a trace never shows two holders at once.
    traceLock(TraceKind.LockRelease, this.mutex.name);
    this.mutex.advance(this.ticket);
  }

  [Symbol.dispose](): void {
    if (!this.released) this.unlock();
  }
}

/** A fair mutex over a SharedArrayBuffer. */
/** The longest name a mutex may carry (it appears in every message about the mutex). */
const MAX_MUTEX_NAME = 1_024;

export class SharedMutex implements OrderedLock, Mutex {
  readonly name: string;
  readonly level: number | undefined;
  private readonly cells: Int32Array;

  constructor(options: SharedMutexOptions = {}, sab?: SharedArrayBuffer) {
    checkOptionsObject(options, 'new SharedMutex()', "{ name: 'accounts', level: 1 }", 'mutex-options', MUTEX_OPTION_KEYS);
    if (options.level !== undefined && !Number.isFinite(options.level)) {
      throw new InvalidArgumentError(`[mutex-level] a lock level must be a finite number; got ${shownValue(options.level)}`, { parameter: 'level' });
    }
    // The name is only for messages, and a handle's comes from another thread: a string, bounded.
    if (options.name !== undefined && !(typeof options.name === 'string' && options.name.length > 0 && options.name.length <= MAX_MUTEX_NAME)) {
      throw new InvalidArgumentError(`[mutex-name] a mutex's name must be a string of 1 to ${MAX_MUTEX_NAME} characters, or left out; got ${typeof options.name === 'string' ? `${options.name.length} characters` : shownValue(options.name)}`, { parameter: 'name' });
    }
    this.name = options.name ?? 'unnamed mutex';
    this.level = options.level;
    this.cells = new Int32Array(sab ?? new SharedArrayBuffer(CELLS * 4));
  }

  /** The handle to send to another thread yourself (the runtime does this for you when it is an argument). */
  get handle(): SharedMutexHandle {
    return { sab: this.cells.buffer as SharedArrayBuffer, name: this.name, level: this.level };
  }

  static fromHandle(handle: SharedMutexHandle): SharedMutex {
    if (!(handle?.sab instanceof SharedArrayBuffer) || handle.sab.byteLength !== CELLS * 4) {
      throw new InvalidArgumentError('[mutex-handle] not a SharedMutex handle; pass mutex.handle unchanged', { parameter: 'handle' });
    }
    return mutexOn(handle);
  }

  /** Take the lock now if it is free; undefined otherwise. */
  tryLock(): LockGuard | undefined {
    const claim = claimOrder(this);
    const serving = Atomics.load(this.cells, SERVING);
    if (Atomics.compareExchange(this.cells, NEXT, serving, serving + 1) !== serving) return undefined;
    Atomics.store(this.cells, OWNERS + (serving & (MAX_WAITERS - 1)), SELF);
    return this.grant(serving, claim);
  }

  /** Wait for the lock without blocking the event loop. */
  async lock(options: LockOptions = {}): Promise<LockGuard> {
    const own = checkLockOptions(options, this.name);
    // Synchronously, before any await: the claim binds the logical call that asked (lock-order.ts).
    const claim = claimOrder(this);
    own?.throwIfAborted();
    // Taken while this apartment serves a call, the wait is that call's: given up when it is. (A
    // free lock is still granted to a call already given up: its clean-up may need it.)
    const signal = withServedCall(own);
    const ticket = this.takeTicket();
    const deadline = options.timeoutMs === undefined ? Infinity : monotonicMs() + options.timeoutMs;
    for (;;) {
      const serving = Atomics.load(this.cells, SERVING);
      if (serving === ticket) {
        // The turn is ours and stays ours; recording it in the flow waits one microtask (lock-order.ts).
        if (claim.inFlow) await null;
        return this.grant(ticket, claim);
      }
      if (signal?.aborted) return this.abandon(ticket, new CallCanceledError(`[lock-canceled] waiting for '${this.name}' was cancelled`, { cause: signal.reason }));
      if (this.passDeadTurn(serving)) continue;
      const left = deadline - monotonicMs();
      if (left <= 0) return this.abandon(ticket, this.timeoutError(options.timeoutMs!));
      // Woken by the unlocker's notify, the dead-owner check, or at once by the served call's end:
      // a waiter in a served call used to poll every 50 ms to notice that end.
      const w = Atomics.waitAsync(this.cells, SERVING, serving, Math.min(left, DEAD_CHECK_MS));
      if (w.async) await (signal ? wokenOrAborted(w.value, signal) : w.value);
    }
  }

  /** Wait for the lock, blocking this thread (refused on the main thread unless allowed). */
  lockSync(options: LockOptions = {}): LockGuard {
    // First: a misspelt allowOnMainThread is named as such, not taken for its absence.
    checkLockOptions(options, this.name);
    if (isMainThread && !options.allowOnMainThread) {
      throw new ApartmentError('E_UNEXPECTED', `[lock-sync-main] lockSync('${this.name}') would block the main thread and every apartment waiting on it; use await lock(), or pass { allowOnMainThread: true } if you really mean it`);
    }
    // A signal was taken and never looked at: while this thread blocks, no abort can reach it.
    if (options.signal !== undefined) {
      throw new InvalidArgumentError(`[lock-sync-signal] lockSync('${this.name}') blocks its thread, where no abort can reach it, so it takes no signal; bound the wait with timeoutMs, or use await lock({ signal })`, { parameter: 'signal' });
    }
    const claim = claimOrder(this);
    const ticket = this.takeTicket();
    const deadline = options.timeoutMs === undefined ? Infinity : monotonicMs() + options.timeoutMs;
    for (;;) {
      const serving = Atomics.load(this.cells, SERVING);
      if (serving === ticket) return this.grant(ticket, claim);
      if (this.passDeadTurn(serving)) continue;
      const left = deadline - monotonicMs();
      if (left <= 0) return this.abandon(ticket, this.timeoutError(options.timeoutMs!));
      Atomics.wait(this.cells, SERVING, serving, Math.min(left, DEAD_CHECK_MS));
    }
  }

  /** Runtime internals (LockGuard): pass the lock on from `ticket`, skipping abandoned tickets. */
  advance(ticket: number): void {
    Atomics.store(this.cells, OWNERS + (ticket & (MAX_WAITERS - 1)), 0);
    // Tickets are int32 and wrap after 2^31 locks: every step and slot is taken modulo 2^32.
    let next = (ticket + 1) | 0;
    for (;;) {
      Atomics.store(this.cells, SERVING, next);
      const at = next & (MAX_WAITERS - 1);
      const abandoned = Atomics.compareExchange(this.cells, SLOTS + at, next, 0) === next;
      if (!abandoned && !this.claimDead(next)) break;
      Atomics.store(this.cells, OWNERS + at, 0);
      next = (next + 1) | 0;
    }
    Atomics.notify(this.cells, SERVING);
  }

  /** Whether `ticket` belongs to a thread that has ended, taken so that one thread alone passes its turn on. */
  private claimDead(ticket: number): boolean {
    const slot = OWNERS + (ticket & (MAX_WAITERS - 1));
    const owner = Atomics.load(this.cells, slot);
    return owner !== 0 && owner !== SELF && isDeadThread(owner) && Atomics.compareExchange(this.cells, slot, owner, 0) === owner;
  }

  /** The turn is `serving`'s, whose thread has ended (holding the lock, or waiting): pass it on. */
  private passDeadTurn(serving: number): boolean {
    if (!this.claimDead(serving)) return false;
    this.advance(serving);
    return true;
  }

  /** Our turn came: record the lock under the logical call; if that fails, pass the turn on. */
  private grant(ticket: number, claim: OrderClaim): LockGuard {
    try {
      const guard = new LockGuard(this, ticket, claim.taken());
      traceLock(TraceKind.LockAcquire, this.name);
      return guard;
    } catch (err) {
      this.advance(ticket);
      throw err;
    }
  }

  [CUSTOM_MARSHAL](): CustomMarshaled {
    return { key: VALUE_TYPE, payload: this.handle, sharedMemory: true };
  }

  private takeTicket(): number {
    // A full queue refuses without taking a ticket: one taken and abandoned would share its slot with a
    // ticket 1024 back, still waiting, whose own abandonment would overwrite the mark and stop the turn there.
    for (;;) {
      const ticket = Atomics.load(this.cells, NEXT);
      if (((ticket - Atomics.load(this.cells, SERVING)) | 0) >= MAX_WAITERS) {
        throw new ApartmentError('ERROR_BUSY', `[mutex-full] more than ${MAX_WAITERS} waiters on '${this.name}'; find why it is held so long`);
      }
      if (Atomics.compareExchange(this.cells, NEXT, ticket, (ticket + 1) | 0) !== ticket) continue;
      Atomics.store(this.cells, OWNERS + (ticket & (MAX_WAITERS - 1)), SELF);
      return ticket;
    }
  }

  /** Give up a ticket: mark it so the unlocker skips it, unless it was already our turn. */
  private abandon(ticket: number, error: Error): never {
    this.abandonNow(ticket);
    throw error;
  }

  private abandonNow(ticket: number): void {
    const slot = SLOTS + (ticket & (MAX_WAITERS - 1));
    Atomics.store(this.cells, OWNERS + (ticket & (MAX_WAITERS - 1)), 0);
    Atomics.store(this.cells, slot, ticket);
    // If the lock reached us meanwhile, exactly one of us (here or the unlocker) wins the slot.
    if (Atomics.load(this.cells, SERVING) === ticket && Atomics.compareExchange(this.cells, slot, ticket, 0) === ticket) this.advance(ticket);
  }

  private timeoutError(ms: number): CallTimeoutError {
    return new CallTimeoutError(`[lock-timeout] '${this.name}' was not acquired within ${ms} ms; find who holds it, or wait longer`);
  }
}

registerValueType(VALUE_TYPE, (payload) => SharedMutex.fromHandle(payload as SharedMutexHandle));

/**
 * A mutex on a checked handle's memory. Outside the class: a bundle gives a class that names itself
 * in its own body an inner name, and that would become `SharedMutex.name` (.ci/bundle-engine.mjs).
 */
function mutexOn(handle: SharedMutexHandle): SharedMutex {
  return new SharedMutex({ name: handle.name, ...(handle.level === undefined ? {} : { level: handle.level }) }, handle.sab);
}

/**
 * Settles when `woken` (an Atomics.waitAsync wait) does, or as soon as `signal` aborts. A wait left
 * behind by an abort ends at its own timeout (at most DEAD_CHECK_MS) or the next notify.
 */
function wokenOrAborted(woken: Promise<unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void woken.then(done);
  });
}

/**
 * Refuse lock options that cannot be followed, before a ticket is taken: a NaN time limit waited
 * forever, a signal that was no AbortSignal threw a TypeError, and a misspelt key was ignored.
 * Returns the signal to follow (checkAbortSignal: a polyfill's is followed through one of ours).
 */
export function checkLockOptions(options: LockOptions, name: string): AbortSignal | undefined {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`[lock-options] lock('${name}') takes { timeoutMs?, signal? }; got ${options === null ? 'null' : typeof options}`, { parameter: 'options' });
  }
  checkOptionKeys(options, LOCK_OPTION_KEYS, `lock('${name}')`);
  const { timeoutMs, signal } = options;
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs >= 0)) {
    throw new InvalidArgumentError(`[lock-options] lock('${name}'): timeoutMs must be a number of milliseconds ≥ 0 (Infinity, or left out, waits without limit); got ${shownValue(timeoutMs)}`, { parameter: 'timeoutMs' });
  }
  return checkAbortSignal(signal, 'signal', 'lock-options');
}
