// Shared resources, the child-DLL lesson: something loaded once on behalf of several apartments
// (a connection, a parsed model, a native handle) is disposed only after every apartment that
// acquired it has released it, or died. Each acquire yields its own lease; the resource's count is
// the number of live leases, so disposing early is impossible by construction. Main apartment only.
import { ANY_ROLE, controlService, type ControlRouter } from '../apartments/control-plane.js';
import { id, name } from '../apartments/control-args.js';
import { currentCall } from '../apartments/context.js';
import { byRef } from '../marshal/by-ref.js';
import { ApartmentError, CallCanceledError, CallTimeoutError, DisconnectedError, InvalidArgumentError } from '../marshal/errors.js';
import { setLongTimeout, settlesWithin } from '../marshal/long-timer.js';
import { checkOptionKeys, optionKeys } from '../marshal/option-keys.js';

/** How a shared resource is made and disposed (both run on the main thread). */
export interface SharedResourceDefinition<T> {
  create(): T | Promise<T>;
  dispose(value: T): void | Promise<void>;
}
/** The keys a definition may have; any other (a misspelt dispose, say) is refused. */
const DEFINITION_KEYS = optionKeys<SharedResourceDefinition<unknown>>({ create: true, dispose: true });

/**
 * The most leases one apartment other than the main one may hold at once: each is kept by the main
 * apartment until it is released or the apartment ends, so a plugin acquiring in a loop would
 * otherwise grow the host without bound.
 */
export const MAX_SHARED_LEASES = 4_096;

/** How long close() waits for the disposals it starts. */
const CLOSE_DISPOSE_MS = 5_000;

/** One create() of a resource, and whether it has settled. */
interface Creation {
  readonly value: Promise<unknown>;
  settled: boolean;
}

interface Entry {
  definition: SharedResourceDefinition<unknown>;
  /** The create() the next lease waits for; undefined while none is made or being made. */
  creation: Creation | undefined;
  leases: Map<number, number>;
  disposing: Promise<void> | undefined;
}

/** Named shared resources with per-apartment leases. */
export class SharedResourceRegistry {
  private readonly entries = new Map<string, Entry>();
  private nextLease = 1;
  /** Live leases by apartment, for the quota. */
  private readonly held = new Map<number, number>();
  private closed = false;

  /**
   * `isLive` says whether an apartment still runs: one that died while it waited takes no lease.
   * `hostWaitMs`: how long an acquire that no call carries (the host's own) waits for the resource.
   */
  constructor(
    private readonly report: (message: string) => void,
    private readonly isLive: (apartment: number) => boolean = () => true,
    private readonly hostWaitMs = Infinity,
  ) {}

  define<T>(name: string, definition: SharedResourceDefinition<T>): void {
    this.assertOpen();
    if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('[shared-name] a shared resource needs a non-empty name', { parameter: 'name' });
    if (typeof definition?.create !== 'function' || typeof definition.dispose !== 'function') {
      throw new InvalidArgumentError(`[shared-definition] shared resource '${name}' needs create() and dispose() functions`, { parameter: 'definition' });
    }
    checkOptionKeys(definition, DEFINITION_KEYS, `shared resource '${name}'`, 'definition');
    if (this.entries.has(name)) throw new InvalidArgumentError(`[shared-exists] a shared resource named '${name}' is already defined`, { parameter: 'name' });
    this.entries.set(name, { definition: definition as SharedResourceDefinition<unknown>, creation: undefined, leases: new Map(), disposing: undefined });
  }

  /**
   * Take a lease for `apartment`; creates the resource on the first lease. The wait for a create()
   * (or a dispose before it) ends when `signal` — the asking call's — aborts, or, for the host's own
   * acquire, after `hostWaitMs`: a create() that never settles must not hold its callers for good.
   */
  async acquire(name: string, apartment: number, signal?: AbortSignal): Promise<{ lease: number; value: unknown }> {
    this.assertOpen();
    const entry = this.entries.get(name);
    if (!entry) throw new ApartmentError('REGDB_E_CLASSNOTREG', `[shared-unknown] no shared resource named '${name}'; define it with runtime.defineSharedResource() first`);
    const limit = this.waitLimit(name, signal);
    try {
      while (entry.disposing) await Promise.race([entry.disposing, limit.ended]);
      // Its apartment may have died (and its leases been dropped) while it waited for the dispose:
      // a lease taken now would be nobody's, and the resource would never be disposed.
      if (!this.isLive(apartment)) throw new DisconnectedError(`[shared-gone] apartment ${apartment} ended while it waited for shared resource '${name}'`);
      const count = this.held.get(apartment) ?? 0;
      if (apartment !== 0 && count >= MAX_SHARED_LEASES) {
        throw new ApartmentError('ERROR_BUSY', `[shared-quota] apartment ${apartment} holds ${count} shared resource leases already (at most ${MAX_SHARED_LEASES}); release the leases it no longer uses first`);
      }
      const lease = this.nextLease++;
      this.take(lease, apartment, entry);
      const creation = (entry.creation ??= create(entry.definition));
      try {
        return { lease, value: await Promise.race([creation.value, limit.ended]) };
      } catch (err) {
        this.drop(lease, apartment, entry);
        // A create() that failed is forgotten: the next acquire tries again.
        if (!limit.isEnd(err)) {
          if (entry.creation === creation) entry.creation = undefined;
        } else if (entry.creation === creation && !this.closed) {
          // Given up: with no lease left, nobody waits for this creation any more (disposeIfUnused).
          void this.disposeIfUnused(name, entry);
        }
        throw err;
      }
    } finally {
      limit.clear();
    }
  }

  /** What ends an acquire's wait: its call's `signal`, or for the host's own acquire, `hostWaitMs`. */
  private waitLimit(name: string, signal: AbortSignal | undefined): { ended: Promise<never>; isEnd(err: unknown): boolean; clear(): void } {
    let reason: Error | undefined;
    let clear = (): void => {};
    const ended = new Promise<never>((_, reject) => {
      const end = (err: Error): void => {
        reason = err;
        reject(err);
      };
      if (signal) {
        const abort = (): void => end(new CallCanceledError(`[shared-abandoned] the caller gave up on shared resource '${name}' before it was ready; its lease was given back`, { cause: signal.reason }));
        if (signal.aborted) return abort();
        signal.addEventListener('abort', abort, { once: true });
        clear = () => signal.removeEventListener('abort', abort);
      } else if (this.hostWaitMs !== Infinity) {
        const timer = setLongTimeout(() => end(new CallTimeoutError(`[shared-timeout] shared resource '${name}' was not ready within ${this.hostWaitMs} ms: its create(), or the dispose before it, has not settled; make it settle, or raise the runtime's defaultTimeoutMs if it is only slow`, { started: true })), this.hostWaitMs);
        clear = () => timer.clear();
      }
    });
    ended.catch(() => undefined);
    return { ended, isEnd: (err) => reason !== undefined && err === reason, clear: () => clear() };
  }

  /** Give a lease back; the last one disposes the resource. Unknown or repeated leases are refused. */
  release(lease: number, apartment: number): Promise<void> {
    // close() ended every lease and disposed what they held: a release after it has nothing to do.
    if (this.closed) return Promise.resolve();
    for (const [name, entry] of this.entries) {
      if (entry.leases.get(lease) !== apartment) continue;
      this.drop(lease, apartment, entry);
      return this.disposeIfUnused(name, entry);
    }
    return Promise.reject(new DisconnectedError(`[shared-lease] lease ${lease} is not held by this apartment (released already?)`, { code: 'CO_E_OBJNOTCONNECTED' }));
  }

  /** An apartment closed or died: its leases end with it. */
  dropApartment(apartment: number): void {
    for (const [name, entry] of this.entries) {
      let dropped = false;
      for (const [lease, holder] of entry.leases) if (holder === apartment) {
        this.drop(lease, apartment, entry);
        dropped = true;
      }
      if (dropped) void this.disposeIfUnused(name, entry);
    }
  }

  /**
   * The runtime closed: nothing is defined or leased any more, and the leases left end with it —
   * the main apartment's too, whose resources were otherwise never disposed (a timer one holds kept
   * the process alive after close()). Settles once every resource is disposed. Before, the host
   * could still lease after close(), making a resource nobody would dispose on a thread that was
   * no apartment.
   */
  close(): Promise<void> {
    this.closed = true;
    const disposed: Promise<void>[] = [];
    for (const [name, entry] of this.entries) {
      for (const [lease, holder] of entry.leases) this.drop(lease, holder, entry);
      disposed.push(this.disposeIfUnused(name, entry), entry.disposing ?? Promise.resolve());
    }
    if (disposed.length === 0) return Promise.resolve();
    // A dispose that never settles must not keep close() from settling: it is waited for a while, then reported.
    return settlesWithin(Promise.all(disposed), CLOSE_DISPOSE_MS, true).then((settled) => {
      if (settled) return;
      const left = [...this.entries].filter(([, e]) => e.disposing).map(([name]) => `'${name}'`);
      this.report(`[shared-dispose] the runtime closed, and the dispose of shared resource ${left.join(', ')} had not ended after ${CLOSE_DISPOSE_MS} ms; close() did not wait longer — make dispose() settle`);
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new DisconnectedError('[runtime-closed] the runtime was closed; start a new one to share resources');
  }

  /** Live leases of a resource (for diagnostics and specs). */
  leases(name: string): number {
    return this.entries.get(name)?.leases.size ?? 0;
  }

  private take(lease: number, apartment: number, entry: Entry): void {
    entry.leases.set(lease, apartment);
    this.held.set(apartment, (this.held.get(apartment) ?? 0) + 1);
  }

  private drop(lease: number, apartment: number, entry: Entry): void {
    if (!entry.leases.delete(lease)) return;
    const left = (this.held.get(apartment) ?? 0) - 1;
    if (left > 0) this.held.set(apartment, left);
    else this.held.delete(apartment);
  }

  /**
   * With no lease left, dispose the resource. One still being created is abandoned instead: the
   * next acquire creates it afresh rather than wait for a create() that may never settle (it used
   * to wait, and time out, for good), and what the abandoned create() makes, if it ever settles, is
   * nobody's and is disposed then.
   */
  private disposeIfUnused(name: string, entry: Entry): Promise<void> {
    const creation = entry.creation;
    if (entry.leases.size > 0 || !creation) return Promise.resolve();
    entry.creation = undefined;
    if (!creation.settled) {
      this.report(`[shared-abandoned] create() of shared resource '${name}' had not settled when nobody waited for it any more; the next acquire creates it afresh, and what this create() makes, if it ever settles, is disposed`);
      void creation.value.then((value) => this.dispose(name, entry, value), () => undefined);
      return Promise.resolve();
    }
    entry.disposing = (async () => {
      try {
        await this.dispose(name, entry, await creation.value);
      } finally {
        entry.disposing = undefined;
      }
    })();
    return entry.disposing;
  }

  /** Run the definition's dispose on `value`, reporting its failure. */
  private async dispose(name: string, entry: Entry, value: unknown): Promise<void> {
    try {
      await entry.definition.dispose(value);
    } catch (err) {
      this.report(`[shared-dispose] disposing shared resource '${name}' failed: ${(err as Error)?.message ?? String(err)}`);
    }
  }
}

/** Start `definition`'s create(), noting when it settles. */
function create(definition: SharedResourceDefinition<unknown>): Creation {
  const value = Promise.resolve().then(() => definition.create());
  const creation: Creation = { value, settled: false };
  const settled = (): void => {
    creation.settled = true;
  };
  value.then(settled, settled);
  return creation;
}

/** Leasing shared resources (served by the main apartment, which owns them). */
export interface SharedResourcesApi {
  acquire(name: string): { lease: number; value: unknown };
  release(lease: number): void;
}
export const SharedResourcesService = controlService<SharedResourcesApi>('shared-resources');

/** Serve leases from `registry`; a value crosses by reference, so the resource stays on the main thread. */
export function serveSharedResources(router: ControlRouter, registry: SharedResourceRegistry): void {
  router.register(SharedResourcesService, {
    acquire: {
      roles: ANY_ROLE,
      check: (args) => [name(args[0], 'name')],
      run: async (caller, resource) => {
        // Read at the start: the signal of the call being served, aborted when its caller gives up.
        const signal = currentCall()?.signal;
        const { lease, value } = await registry.acquire(resource, caller.apartment, signal);
        // The caller passed its deadline (or cancelled) while the resource was made: nobody will
        // hear of this lease, which would keep the resource alive until the apartment ends.
        if (signal?.aborted) {
          await registry.release(lease, caller.apartment);
          throw new CallCanceledError(`[shared-abandoned] the caller gave up on shared resource '${resource}' before it was ready; its lease was given back`);
        }
        // A primitive (a number, a string) is the same copied: byRef() of one failed the acquire after
        // the lease was taken, which then stayed until the apartment ended.
        const byValue = caller.role === 'main' || value === null || (typeof value !== 'object' && typeof value !== 'function');
        return { lease, value: byValue ? value : byRef(value as object) };
      },
    },
    release: { roles: ANY_ROLE, check: (args) => [id(args[0], 'lease')], run: (caller, lease) => registry.release(lease, caller.apartment) },
  });
}
