// A named mutex as an apartment that shares no memory with the main apartment (a process
// apartment) holds it: the main apartment takes the real SharedMutex on its behalf
// (mirrored-locks.ts), so it excludes worker and process apartments alike. Each lock brings in the
// named memories this apartment holds and each unlock sends back what it changed in them, so memory
// guarded by the mutex reads and writes as it would in shared memory. Waiting is a call to the main
// apartment, so only lock() can wait: tryLock() and lockSync() cannot answer without waiting.
import { localApartment } from '../../apartments/local-context.js';
import { callMain, mainService, waitingCallOptions } from '../../apartments/main-call.js';
import { withServedCall } from '../../apartments/served-call-signal.js';
import { ApartmentError, CallCanceledError } from '../../marshal/errors.js';
import { TraceKind } from '../../marshal/trace-hook.js';
import { traceLock } from '../trace/trace-mark.js';
import { claimOrder, type HeldLock } from './lock-order.js';
import { refreshMirrors, takeMirrorChanges } from './memory-mirrors.js';
import { NamedService } from './named-service.js';
import { checkLockOptions, type LockOptions, type Mutex, type MutexGuard } from './shared-mutex.js';

/** Lock tokens of this apartment: each lock asks under a new one. Per thread. */
let nextToken = 1;

/** Tell the main apartment a lock is given back (or given up); a refusal is logged, not thrown. */
function sendUnlock(name: string, token: number, writes: ReturnType<typeof takeMirrorChanges>): void {
  mainService(NamedService).unlock(token, writes).catch((err: unknown) => {
    localApartment().endpoint.warn(`[named-unlock] unlocking '${name}' failed: ${(err as Error)?.message ?? String(err)}`);
  });
}

/** Give up lock `token` whether it was granted, is still waited for, or already ended (then nothing happens). */
function giveUp(name: string, token: number): void {
  mainService(NamedService).giveUp(token).catch((err: unknown) => {
    localApartment().endpoint.warn(`[named-unlock] giving up the lock on '${name}' failed: ${(err as Error)?.message ?? String(err)}`);
  });
}

/** A held lock on a remote named mutex: unlock() sends the changed memory and releases it, once. */
class RemoteLockGuard implements MutexGuard {
  private released = false;
  constructor(private readonly name: string, private readonly token: number, private readonly held: HeldLock) {}

  unlock(): void {
    if (this.released) {
      throw new ApartmentError('E_UNEXPECTED', `[unlock-twice] '${this.name}' was already unlocked by this guard; unlock each acquisition once`);
    }
    this.released = true;
    this.held.release();
    traceLock(TraceKind.LockRelease, this.name);
    sendUnlock(this.name, this.token, takeMirrorChanges());
  }

  [Symbol.dispose](): void {
    if (!this.released) this.unlock();
  }
}

/** A named mutex reached through the main apartment. */
export class RemoteMutex implements Mutex {
  constructor(readonly name: string, readonly level: number | undefined) {}

  async lock(options: LockOptions = {}): Promise<MutexGuard> {
    const own = checkLockOptions(options, this.name);
    // Synchronously, before any await: the claim binds the logical call that asked (lock-order.ts).
    const claim = claimOrder(this);
    own?.throwIfAborted();
    // Taken while this apartment serves a call, the wait is that call's: given up when it is. Here
    // every lock may wait (for the host), so a call already given up does not ask.
    const signal = withServedCall(own);
    if (signal?.aborted) throw canceled(this.name, signal);
    const token = nextToken++;
    // The main apartment takes whole milliseconds, and none for no limit.
    const limit = options.timeoutMs === undefined || options.timeoutMs > Number.MAX_SAFE_INTEGER ? undefined : Math.ceil(options.timeoutMs);
    // The wait lasts its own time limit, not this apartment's call deadline.
    const asked = callMain(NamedService, 'lock', [this.name, token, limit], waitingCallOptions(limit ?? Infinity));
    let grant: Awaited<typeof asked>;
    try {
      grant = await untilAborted(asked, signal, this.name);
    } catch (err) {
      // The grant may still come (or have come unseen: a call deadline passed): give it back either way.
      asked.catch(() => undefined);
      giveUp(this.name, token);
      throw err;
    }
    refreshMirrors(grant.memories);
    if (claim.inFlow) await null;
    let held: HeldLock;
    try {
      held = claim.taken();
    } catch (err) {
      giveUp(this.name, token);
      throw err;
    }
    traceLock(TraceKind.LockAcquire, this.name);
    return new RemoteLockGuard(this.name, token, held);
  }

  tryLock(): MutexGuard | undefined {
    throw new ApartmentError('E_UNEXPECTED', `[lock-remote] tryLock('${this.name}') cannot answer at once here: this apartment shares no memory with the main one, so the named mutex is taken through it; use await lock({ timeoutMs })`);
  }

  lockSync(): MutexGuard {
    throw new ApartmentError('E_UNEXPECTED', `[lock-remote] lockSync('${this.name}') cannot block here: this apartment shares no memory with the main one, so the named mutex is taken through it; use await lock()`);
  }
}

/** `asked`, or a CallCanceledError as soon as `signal` aborts. */
function untilAborted<T>(asked: Promise<T>, signal: AbortSignal | undefined, name: string): Promise<T> {
  if (!signal) return asked;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(canceled(name, signal));
    signal.addEventListener('abort', onAbort, { once: true });
    asked.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The error of a wait for `name` given up through `signal`. */
function canceled(name: string, signal: AbortSignal): CallCanceledError {
  return new CallCanceledError(`[lock-canceled] waiting for '${name}' was cancelled`, { cause: signal.reason });
}
