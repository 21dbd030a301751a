// Rental objects: resident in exactly one apartment at a time, and movable. COM described rental but
// never enforced it; here it is enforced. The runtime keeps each rental object's registration in
// the main apartment; lease(handle) moves the object into the caller's apartment — its state
// carried over by structured clone once no call is running on it — and gives a direct reference for
// the lease. Anyone else calling it, or a second concurrent holder, gets ContractViolationError
// (a call that reaches the object itself from another apartment, through a lease.value handed on,
// is refused by the rental contract's admit() in lib/contracts/builtins.ts);
// disposing it while leased fails with InUseError. Leases may wait in a queue with a deadline.
import { byRef } from '../marshal/by-ref.js';
import { currentApartment, currentCall } from '../apartments/context.js';
import { CallCanceledError, CallTimeoutError, ContractViolationError, DisconnectedError, InUseError, InvalidArgumentError, MarshalError } from '../marshal/errors.js';
import { isRuntimeError } from '../marshal/clone-failure.js';
import { localApartment } from '../apartments/local-context.js';
import { waitingCallOptions } from '../apartments/main-call.js';
import { withServedCall } from '../apartments/served-call-signal.js';
import { callOptions, checkAbortSignal, checkFlag, checkOptionsObject, checkTimeoutMs } from '../marshal/call-options.js';
import { optionKeys } from '../marshal/option-keys.js';
import { isProxy } from '../marshal/proxy.js';
import { askTicketed, dropTicketedWait, queuedWait } from './queued-wait.js';

/** Options of lease(). */
export interface LeaseOptions {
  /** Wait in the queue when another apartment holds the lease, instead of failing. */
  wait?: boolean;
  /** How long to wait (ms; default 30 000; Infinity: no limit), from any apartment: the call deadline does not cut it short. */
  timeoutMs?: number;
  /** Aborting it gives up the wait at once (CallCanceledError); a lease granted meanwhile is given back. */
  signal?: AbortSignal;
}
/** The keys lease() takes; any other is refused. */
const LEASE_OPTION_KEYS = optionKeys<LeaseOptions>({ wait: true, timeoutMs: true, signal: true });

interface Grant {
  className: string;
  fresh: boolean;
  args: unknown[];
  state: unknown;
}

interface Waiter {
  apartment: number;
  /** The lessee's number for this request: what it names if it gives up (abandon). */
  ticket: number | undefined;
  resolve: (g: Grant) => void;
  reject: (e: Error) => void;
}

/** How long a lease waits in the queue when its caller names no time limit, ms. */
const DEFAULT_WAIT_MS = 30_000;

const INTERNAL = new Set(['rental:lease', 'rental:return', 'rental:abandon', 'rental:dispose']);

/**
 * What a handle answers as its constructor, for admission: its methods interleave. A lease that
 * waits in the queue is a call still running on the handle; taking turns, the holder's
 * 'rental:return' from another apartment would queue behind it and neither could finish. The
 * record needs no turns: it runs on the main apartment's one thread and never awaits mid-update.
 */
class RentalHandle {
  static interleave = [...INTERNAL];
  /** A give-back a message filter refused would leave the object leased for good. */
  static unfiltered = ['rental:return', 'rental:abandon'];
}

/**
 * Set while this apartment calls a handle of its own registry directly (not through a proxy): such
 * a call is this apartment's own even while it serves another apartment's call, whose caller
 * currentCall() names. Read synchronously as a record method starts.
 */
let ownCall = false;

/** The apartment a record method is called for. */
function callerNow(): number {
  return ownCall ? currentApartment().id : currentCall()?.callerApartment ?? currentApartment().id;
}

/** Call `handle`'s method through `call`; a handle that is no proxy is this apartment's own (ownCall). */
function onHandle<R>(handle: unknown, call: () => R): R {
  if (isProxy(handle)) return call();
  ownCall = true;
  try {
    return call();
  } finally {
    ownCall = false;
  }
}

/** A lessee's request number as it arrived: a safe integer, or none (a hostile peer may send anything). */
function ticketOf(value: unknown): number | undefined {
  return Number.isSafeInteger(value) ? (value as number) : undefined;
}

/** The main apartment's record of one rental object: where it is and who waits for it. */
class RentalRecord {
  holder: number | undefined;
  /** The ticket of the request the holder was granted by. */
  holderTicket: number | undefined;
  state: unknown;
  fresh = true;
  gone: Error | undefined;
  readonly queue: Waiter[] = [];
  constructor(readonly className: string, readonly args: unknown[], private readonly label: (id: number) => string) {}

  lease(wait: unknown, timeoutMs: unknown, ticketArg: unknown, local?: AbortSignal): Grant | Promise<Grant> {
    if (this.gone) throw this.gone;
    const ticket = ticketOf(ticketArg);
    const caller = callerNow();
    if (this.holder === undefined) return this.grant(caller, ticket);
    if (this.holder === caller) throw new ContractViolationError(`[rental-held] ${this.label(caller)} already holds the lease on this ${this.className}; use the reference it has`);
    if (wait !== true) {
      throw new ContractViolationError(`[rental-busy] this ${this.className} is leased by ${this.label(this.holder)}; wait with lease(handle, { wait: true }) or try later`);
    }
    const ms = typeof timeoutMs === 'number' && timeoutMs > 0 ? timeoutMs : DEFAULT_WAIT_MS;
    // A caller that cancels, or whose call passes its deadline, waits no longer: granted later, the
    // lease would go to nobody, and the object would stay with its apartment for good. (A grant
    // that crosses the caller's cancel on its way is given back by the lessee: abandon().)
    const signal = withServedCall(local);
    return queuedWait(() => this.queue, (resolve: (g: Grant) => void, reject: (e: Error) => void): Waiter => ({ apartment: caller, ticket, resolve, reject }), {
      signal,
      canceled: () => new CallCanceledError(`[rental-wait] the call waiting for the lease on this ${this.className} was canceled, or passed its deadline`),
      timeoutMs: ms,
      timedOut: () => new CallTimeoutError(`[rental-wait] the lease on this ${this.className} did not come free within ${ms} ms`),
    });
  }

  /**
   * The caller gave up its request `ticket` (canceled, or past its deadline): a wait still queued
   * leaves, and a lease it was granted on the way back is given back untouched. True if it held one.
   */
  abandon(ticketArg: unknown): boolean {
    const ticket = ticketOf(ticketArg);
    const caller = callerNow();
    if (ticket === undefined) return false;
    if (this.holder === caller && this.holderTicket === ticket) {
      this.giveBack(undefined, true);
      return true;
    }
    dropTicketedWait(this.queue, caller, ticket, () => new CallCanceledError(`[rental-wait] the call waiting for the lease on this ${this.className} was given up by its caller`));
    return false;
  }

  /** The holder gives the object back with `state`, or as it was granted when `untouched` (its lease failed before it had the object). */
  giveBack(state: unknown, untouched: unknown): boolean {
    const caller = callerNow();
    if (this.holder !== caller) throw new ContractViolationError(`[rental-not-held] ${this.label(caller)} does not hold the lease on this ${this.className}`);
    this.holder = undefined;
    this.holderTicket = undefined;
    if (untouched !== true) {
      this.state = state;
      this.fresh = false;
    }
    const next = this.queue.shift();
    if (next) next.resolve(this.grant(next.apartment, next.ticket));
    return true;
  }

  dispose(): boolean {
    if (this.holder !== undefined) throw new InUseError(`[rental-in-use] this ${this.className} is leased by ${this.label(this.holder)}; release the lease before disposing it`);
    this.gone = new DisconnectedError(`[rental-disposed] this ${this.className} was disposed`, { code: 'CO_E_OBJNOTCONNECTED' });
    for (const w of this.queue.splice(0)) w.reject(this.gone);
    return true;
  }

  /**
   * An apartment ended. Its waiting leases leave the queue (nobody is left to take or give back what
   * they would be granted); if it held the lease, the object went with it (objects are never resurrected).
   */
  apartmentGone(apartment: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const w = this.queue[i]!;
      if (w.apartment !== apartment) continue;
      this.queue.splice(i, 1);
      w.reject(new DisconnectedError(`[rental-lost] ${this.label(apartment)}, which waited for the lease on this ${this.className}, ended`));
    }
    if (this.holder !== apartment) return;
    this.holder = undefined;
    this.gone = new DisconnectedError(`[rental-lost] this ${this.className} was lost with ${this.label(apartment)}, which held it`);
    for (const w of this.queue.splice(0)) w.reject(this.gone);
  }

  private grant(apartment: number, ticket: number | undefined): Grant {
    this.holder = apartment;
    this.holderTicket = ticket;
    return { className: this.className, fresh: this.fresh, args: this.args, state: this.state };
  }
}

/** Rental registrations, in the main apartment. */
export class RentalRegistry {
  /**
   * Held weakly: a record lives as long as its handle, whose methods hold it, and a handle nobody
   * holds can never be leased again. Held strongly, every rental object ever made stayed for the
   * life of the process, its constructor arguments included: a plugin making them in a loop grew
   * the host without bound.
   */
  private readonly records = new Set<WeakRef<RentalRecord>>();
  private readonly collected = new FinalizationRegistry<WeakRef<RentalRecord>>((ref) => this.records.delete(ref));
  constructor(private readonly label: (id: number) => string) {}

  /** The handle callers hold: only lease() may use it; any method called on it is a contract violation. */
  create(className: string, args: unknown[]): object {
    const record = new RentalRecord(className, args, this.label);
    const ref = new WeakRef(record);
    this.records.add(ref);
    this.collected.register(record, ref);
    const internal: Record<string, (...a: unknown[]) => unknown> = {
      'rental:lease': (wait, timeoutMs, ticket, local) => record.lease(wait, timeoutMs, ticket, local instanceof AbortSignal ? local : undefined),
      'rental:return': (state, untouched) => record.giveBack(state, untouched),
      'rental:abandon': (ticket) => record.abandon(ticket),
      'rental:dispose': () => record.dispose(),
    };
    const refuse = (name: string) => (): never => {
      throw new ContractViolationError(`[rental-not-leased] '${name}' was called on a rental ${className} without holding its lease; call lease(handle) and use the reference it gives`);
    };
    const member = (name: string): unknown => (name === 'constructor' ? RentalHandle : INTERNAL.has(name) ? internal[name] : refuse(name));
    return byRef(new Proxy({}, {
      get: (_t, prop) => (typeof prop === 'string' && prop !== 'then' ? member(prop) : undefined),
      getOwnPropertyDescriptor: (_t, prop) => (typeof prop === 'string' ? { value: member(prop), configurable: true, enumerable: false, writable: false } : undefined),
    }));
  }

  dropApartment(apartment: number): void {
    for (const ref of this.records) ref.deref()?.apartmentGone(apartment);
  }
}

/** A lease on a rental object: `value` is the object itself, here, until release(). */
export class RentalLease<T extends object> implements AsyncDisposable {
  private running = 0;
  private idle: (() => void) | undefined;
  private revoked = false;
  /** The release under way: a second release() waits for it (each would otherwise replace the other's wait for idle). */
  private releasing: Promise<void> | undefined;
  readonly value: T;

  constructor(private readonly instance: T, private readonly handle: { 'rental:return'(state: unknown, untouched?: boolean): unknown }) {
    const lease = this;
    const wrapped = new Map<PropertyKey, unknown>();
    this.value = new Proxy(instance, {
      get(target, prop) {
        if (lease.revoked) throw new ContractViolationError('[rental-released] this lease was released; the object has moved on — lease it again to use it');
        const v = Reflect.get(target, prop, target) as unknown;
        if (typeof v !== 'function' || prop === 'constructor') return v;
        let fn = wrapped.get(prop);
        if (!fn) wrapped.set(prop, (fn = (...args: unknown[]) => lease.track(() => (v as (...a: unknown[]) => unknown).apply(target, args))));
        return fn;
      },
    });
  }

  /** Move the object back out once no call on it is running; the reference stops working. */
  release(): Promise<void> {
    return (this.releasing ??= this.moveOut());
  }

  private async moveOut(): Promise<void> {
    if (this.revoked) return;
    if (this.running > 0) await new Promise<void>((r) => (this.idle = r));
    this.revoked = true;
    const toState = (this.instance as { toState?: () => unknown }).toState;
    let taken = false;
    try {
      const state = typeof toState === 'function' ? toState.call(this.instance) : { ...this.instance };
      taken = true;
      await onHandle(this.handle, () => this.handle['rental:return'](state));
    } catch (err) {
      // A state that cannot be taken (toState() throws) or cannot travel (a promise from an async
      // toState(), a symbol: a MarshalError, so the return never reached the registration) would
      // leave the object held here for good: it moves on with the state it was leased with, and the
      // caller learns that this lease's changes are lost. After any other failure the return may
      // have arrived, and the lease moved on.
      if (!taken || isRuntimeError(err, MarshalError)) await giveBackUntouched(this.handle);
      throw err;
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  private track(call: () => unknown): unknown {
    this.running++;
    let result: unknown;
    try {
      result = call();
    } catch (err) {
      this.settled();
      throw err;
    }
    if (result instanceof Promise) return result.finally(() => this.settled());
    this.settled();
    return result;
  }

  private settled(): void {
    if (--this.running === 0) this.idle?.();
  }
}

/** A handle as lease() uses it. */
interface LeasableHandle {
  'rental:lease'?: (wait: unknown, timeout: unknown, ticket: number, ...rest: unknown[]) => Promise<Grant> | Grant;
  'rental:abandon'(ticket: number): unknown;
  'rental:return'(state: unknown, untouched?: boolean): unknown;
}

/** Lease a rental object into this apartment; the lease's `value` is the object itself. */
export async function lease<T extends object>(handle: unknown, options: LeaseOptions = {}): Promise<RentalLease<T>> {
  const h = handle as LeasableHandle;
  if (handle === null || typeof handle !== 'object' || typeof h['rental:lease'] !== 'function') {
    throw new InvalidArgumentError('[lease] lease() needs the handle of a rental object', { parameter: 'handle' });
  }
  checkOptionsObject(options, 'lease()', '{ wait: true, timeoutMs: 5_000 }', 'lease', LEASE_OPTION_KEYS);
  const own = checkAbortSignal(options.signal, 'options.signal', 'lease');
  checkFlag(options.wait, 'options.wait', 'lease');
  // Checked here, where the mistake is: the registry takes anything else for its default.
  checkTimeoutMs(options.timeoutMs, 'options.timeoutMs');
  // Asked while this apartment serves a call, the lease is that call's: given up when it is.
  const signal = withServedCall(own);
  // Given up while the registration may have granted it on the way back, the lease is abandoned by its ticket.
  const extra = leaseCallExtras(handle, options, signal);
  const { granted: grant } = await askTicketed(
    (ticket) => onHandle(h, () => h['rental:lease']!(options.wait === true, options.timeoutMs, ticket, ...extra)),
    (ticket) => onHandle(h, () => h['rental:abandon'](ticket)),
  );
  let instance: T;
  try {
    instance = await build<T>(grant);
  } catch (err) {
    // Nobody here has the object to give back later: give the lease back now, state as it was. The
    // build's failure is what the caller must see, even if the registration is gone meanwhile.
    await giveBackUntouched(h);
    throw err;
  }
  return new RentalLease(instance, h);
}

/** What a lease request passes after its ticket: how it is cancelled (`signal`), and its deadline. */
function leaseCallExtras(handle: unknown, { wait, timeoutMs }: LeaseOptions, signal: AbortSignal | undefined): unknown[] {
  // The main apartment's own handle takes the signal as an argument (a local call has no call options).
  if (!isProxy(handle)) return signal === undefined ? [] : [signal];
  // A handle in another apartment takes the signal as the call's own. A waiting lease's call gets a
  // deadline past the wait's own time limit: the apartment's call deadline cut a longer wait short.
  if (wait === true) return [waitingCallOptions(timeoutMs ?? DEFAULT_WAIT_MS, signal)];
  return signal === undefined ? [] : [callOptions({ signal })];
}

/** Give a lease back with the object's state as it was when leased; never fails (the registration may be gone). */
function giveBackUntouched(handle: { 'rental:return'(state: unknown, untouched?: boolean): unknown }): Promise<unknown> {
  return Promise.resolve().then(() => onHandle(handle, () => handle['rental:return'](undefined, true))).catch(() => undefined);
}

/** The leased object, built in this apartment from what the grant carries. */
async function build<T extends object>(grant: Grant): Promise<T> {
  const { cls } = await localApartment().loader.load(grant.className);
  if (grant.fresh) return new cls(...grant.args) as T;
  const fromState = (cls as unknown as { fromState?: (s: unknown) => T }).fromState;
  return typeof fromState === 'function' ? fromState(grant.state) : Object.assign(Object.create(cls.prototype as object) as T, grant.state);
}

/** Dispose a rental object; fails with InUseError while it is leased. */
export async function disposeRental(handle: unknown): Promise<void> {
  const h = handle as { 'rental:dispose'?: () => unknown };
  if (handle === null || typeof handle !== 'object' || typeof h['rental:dispose'] !== 'function') {
    throw new InvalidArgumentError('[lease] disposeRental() needs the handle of a rental object', { parameter: 'handle' });
  }
  await h['rental:dispose']();
}
