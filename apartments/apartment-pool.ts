// A pool of warm worker apartments (the VM pool of the source documents): checkout() hands one to
// a single owner; checkin() resets it — every object it exported released, every reference it held
// released, its reset hooks run, the runtime's class cache cleared — before anyone else gets it.
// Main apartment only.
import { controlClient, endpointTransport } from './control-plane.js';
import { ApartmentService } from './engine-services.js';
import { checkOptionsObject, checkTimeoutMs } from '../marshal/call-options.js';
import { optionKeys } from '../marshal/option-keys.js';
import { setLongTimeout, type LongTimer } from '../marshal/long-timer.js';
import { CallTimeoutError, DisconnectedError, InvalidArgumentError, shownValue } from '../marshal/errors.js';
import type { Endpoint } from '../marshal/endpoint.js';
import type { Remote } from '../marshal/proxy.js';
import type { Apartment } from './apartment.js';
import type { ApartmentStats } from './apartment-stats.js';
import { isLive } from './apartment-state.js';

/** Options of a pool. */
export interface PoolOptions {
  /** How many apartments the pool keeps (default 2). */
  size?: number;
  /** Name prefix of its apartments (default 'pool'). */
  name?: string;
  /** How long checkout() waits for a free apartment before CallTimeoutError (default 30 000 ms; Infinity waits without limit). */
  checkoutTimeoutMs?: number;
}
/** The keys createPool() takes; any other is refused. */
const POOL_OPTION_KEYS = optionKeys<PoolOptions>({ size: true, name: true, checkoutTimeoutMs: true });
/**
 * The most apartments one pool may keep: each is a thread (or a process's thread) with its own
 * heap, started at once on first use, so a size of 10^6 took the host down instead of failing.
 */
export const MAX_POOL_SIZE = 1_024;

interface Waiter {
  resolve: (apt: Apartment) => void;
  reject: (err: Error) => void;
  timer: LongTimer;
}

/** An apartment checked out of a pool: usable by its one owner until checkin(). */
export class PooledApartment implements AsyncDisposable {
  private returned = false;
  constructor(private readonly apt: Apartment, private readonly pool: ApartmentPool) {}

  get id(): number {
    return this.apartment.id;
  }

  get name(): string {
    return this.apartment.name;
  }

  /** The apartment itself; fails once the lease was checked in. */
  get apartment(): Apartment {
    if (this.returned) throw new DisconnectedError(`[checked-in] apartment '${this.apt.name}' was checked back into its pool; check out another one`);
    return this.apt;
  }

  createObject<T = unknown>(className: string, ...args: unknown[]): Promise<Remote<T>> {
    try {
      return this.apartment.createObject<T>(className, ...args);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  stats(): Promise<ApartmentStats> {
    try {
      return this.apartment.stats();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Reset the apartment and give it back to the pool; this handle is unusable afterwards. */
  async checkin(): Promise<void> {
    if (this.returned) return;
    this.returned = true;
    await this.pool.giveBack(this.apt);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.checkin();
  }
}

/** Warm apartments lent to one owner at a time. */
export class ApartmentPool {
  private readonly free: Apartment[] = [];
  private readonly all: Apartment[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly size: number;
  private readonly timeoutMs: number;
  private closed = false;
  private starting: Promise<void> | undefined;
  /** Replacements being started: close() waits for each and ends it. */
  private readonly replacing = new Set<Promise<void>>();

  constructor(
    private readonly options: PoolOptions,
    private readonly endpoint: Endpoint,
    private readonly start: (name: string) => Promise<Apartment>,
    /** Told of each apartment reset on check-in, before its next owner has it. */
    private readonly wasReset: (apartment: Apartment) => void = () => {},
  ) {
    checkOptionsObject(options, 'createPool()', '{ size: 4 }', 'pool-options', POOL_OPTION_KEYS);
    this.size = options.size ?? 2;
    this.timeoutMs = options.checkoutTimeoutMs ?? 30_000;
    if (!(Number.isInteger(this.size) && this.size >= 1 && this.size <= MAX_POOL_SIZE)) {
      throw new InvalidArgumentError(`[pool-size] a pool needs a whole number of apartments from 1 to ${MAX_POOL_SIZE} (each is a thread of its own); got ${shownValue(this.size)}`, { parameter: 'size' });
    }
    checkTimeoutMs(this.timeoutMs, 'checkoutTimeoutMs', 'pool-timeout');
  }

  /** Start every apartment of the pool now (checkout also does, on first use). */
  warm(): Promise<void> {
    this.starting ??= (async () => {
      const prefix = this.options.name ?? 'pool';
      const started = await Promise.all(Array.from({ length: this.size }, (_, i) => this.start(`${prefix}-${i + 1}`)));
      this.all.push(...started);
      for (const apt of started) this.release(apt);
    })();
    return this.starting;
  }

  /** Free apartments right now. */
  get available(): number {
    return this.free.filter((a) => isLive(a.state)).length;
  }

  /** Take an apartment for one owner; waits (FIFO) while all are out. */
  async checkout(): Promise<PooledApartment> {
    if (this.closed) throw new DisconnectedError('[pool-closed] this pool was closed; create another');
    await this.warm();
    let apt: Apartment | undefined;
    // One that ended while free (a fault, its thread killed) is replaced, not lent.
    while ((apt = this.free.shift()) && !isLive(apt.state)) this.replace(apt);
    if (!apt) {
      apt = await new Promise<Apartment>((resolve, reject) => {
        const waiter: Waiter = {
          resolve,
          reject,
          // Not a Node timer: one past 2^31 - 1 ms (Infinity, say) failed the wait after 1 ms.
          timer: setLongTimeout(() => {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            reject(new CallTimeoutError(`[pool-checkout] no apartment of the pool came free within ${this.timeoutMs} ms; check apartments in sooner or make the pool larger`));
          }, this.timeoutMs),
        };
        this.waiters.push(waiter);
      });
    }
    return new PooledApartment(apt, this);
  }

  /**
   * Runtime internals: reset a checked-in apartment and hand it to the next owner. One that ended
   * while checked out, or whose reset failed (a reset hook that throws is only logged; one that
   * never settles, or a thread held by a loop, fails the reset call), is ended and replaced by a
   * new one: the pool keeps its size, and no owner gets an apartment in an unknown state.
   */
  async giveBack(apt: Apartment): Promise<void> {
    if (!isLive(apt.state)) return this.replace(apt);
    try {
      await controlClient(endpointTransport(this.endpoint), apt.id, ApartmentService).reset();
    } catch (err) {
      // The pool closed meanwhile (which is why the reset failed, most likely): close() ends it, and nothing replaces it.
      if (this.closed) return this.replace(apt);
      this.endpoint.warn(`[pool-reset] ${apt.label} could not be reset on check-in (${(err as Error)?.message ?? String(err)}); it is ended and replaced by a new apartment`);
      await apt.terminate().catch(() => undefined);
      return this.replace(apt);
    }
    this.wasReset(apt);
    if (this.closed) return;
    this.release(apt);
  }

  /** Start a new apartment in place of `gone`, for the next owner; a start that fails leaves the pool one smaller, and says so. */
  private replace(gone: Apartment): void {
    const at = this.all.indexOf(gone);
    if (at < 0) return;
    this.all.splice(at, 1);
    if (this.closed) return;
    const replacing: Promise<void> = this.start(gone.name).then(async (apt) => {
      this.all.push(apt);
      if (this.closed) await apt.close();
      else this.release(apt);
    }, (err: unknown) => {
      if (this.closed) return;
      this.endpoint.warn(`[pool-replace] the apartment replacing ${gone.label} did not start (${(err as Error)?.message ?? String(err)}); the pool has one apartment fewer`);
    }).finally(() => this.replacing.delete(replacing));
    this.replacing.add(replacing);
  }

  /** Close the pool and its apartments; waiting checkouts fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      w.timer.clear();
      w.reject(new DisconnectedError('[pool-closed] the pool was closed while waiting for an apartment'));
    }
    // A replacement still starting is not in `all` yet: it is ended once it has started.
    await Promise.all([...this.all.map((a) => a.close()), ...this.replacing]);
  }

  private release(apt: Apartment): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.timer.clear();
      waiter.resolve(apt);
    } else {
      this.free.push(apt);
    }
  }
}
