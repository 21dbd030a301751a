// The main apartment's table of named shared objects and create-once values. Every open goes
// through here, on one thread, so the create-or-open decision is atomic however many apartments
// race: exactly one creator per name. Shared memory is published only after its creator
// initialised it; if the creator dies first, the next waiter becomes the creator. Main apartment only.
import { ApartmentError, CallCanceledError, CallTimeoutError, InvalidArgumentError, MarshalError, TOO_LARGE } from '../../marshal/errors.js';
import { keptBytes } from '../../marshal/kept-weight.js';
import { dropTicketedWait, queuedWait, type QueuedWaitOptions } from '../queued-wait.js';

/** Kinds of named object. */
export type NamedKind = 'mutex' | 'memory' | 'counter';

/** What an open answers: the memory, and whether the caller must initialise it. */
export interface NamedGrant {
  sab: SharedArrayBuffer;
  create: boolean;
}

interface Waiter {
  apartment: number;
  /** The asking apartment's number for this request: what it names if it gives up (giveUpOpen). */
  ticket: number | undefined;
  resolve: (g: NamedGrant) => void;
  reject: (e: Error) => void;
}

interface NamedEntry {
  kind: NamedKind;
  sab: SharedArrayBuffer;
  ready: boolean;
  creator: number;
  refs: Map<number, number>;
  waiters: Waiter[];
  /**
   * By apartment, the tickets of the requests its handles were granted by (creation included), oldest
   * first and never more than it holds: a grant whose caller gave up is closed by its ticket.
   */
  granted: Map<number, Set<number>>;
}

/** `apartment` holds one more handle on `e`, granted by request `ticket`. */
function hold(e: NamedEntry, apartment: number, ticket: number | undefined): void {
  e.refs.set(apartment, (e.refs.get(apartment) ?? 0) + 1);
  if (ticket === undefined) return;
  const tickets = e.granted.get(apartment);
  if (tickets) tickets.add(ticket);
  else e.granted.set(apartment, new Set([ticket]));
}

interface OnceWaiter {
  apartment: number;
  ticket: number | undefined;
  resolve: (r: { build: true } | { value: unknown }) => void;
  reject: (e: Error) => void;
}

type OnceEntry =
  | { state: 'building'; builder: number; builderTicket: number | undefined; waiters: OnceWaiter[] }
  | { state: 'done'; value: unknown };

/** The most named objects one apartment may hold handles on (or wait for) at once. */
export const MAX_NAMED_HANDLES = 1_024;
/** The most bytes of named objects one apartment may hold at once, unless its caller says less (2 GiB). */
export const MAX_NAMED_BYTES = 2 ** 31;
/** The most create-once values one apartment may build: they are kept for the life of the process. */
export const MAX_ONCE_BUILT = 4_096;
/** The most one create-once value may weigh once kept (kept-weight.ts), 4 MiB: it is kept for the life of the process. */
export const MAX_ONCE_VALUE_BYTES = 4 * 2 ** 20;
/** The most the create-once values one apartment built may weigh together (64 MiB). */
export const MAX_ONCE_BUILT_BYTES = 64 * 2 ** 20;

/**
 * A wait for `name` ends when `signal` (the asking call's) aborts: a waiter whose caller gave up would
 * be handed creation that nobody performs, or a handle nobody closes. A wait no call carries (host
 * code on the main thread, which has no caller to give up) ends after `timeoutMs` instead: a creator
 * or builder in a plugin that never finishes must not hold the host for good.
 */
function given(signal: AbortSignal | undefined, name: string, timeoutMs = Infinity): QueuedWaitOptions {
  const canceled = (reason: unknown): Error => new CallCanceledError(`[named-canceled] the wait for '${name}' was given up by its caller`, { cause: reason });
  if (signal !== undefined || timeoutMs === Infinity) return { signal, canceled };
  return {
    signal,
    canceled,
    timeoutMs,
    timedOut: () => new CallTimeoutError(`[named-timeout] the wait for '${name}' did not end within ${timeoutMs} ms: the apartment creating or building it has not finished (an init or factory that never settles?); look for it, or raise the runtime's defaultTimeoutMs`, { started: false }),
  };
}

/** The error of a create-once value that weighs more than one may. */
function onceTooLarge(name: string): MarshalError {
  return new MarshalError(
    `${TOO_LARGE} the value built for once('${name}') weighs more than the ${MAX_ONCE_VALUE_BYTES} bytes a create-once value may, as it is kept for the life of the process; keep large data in named memory (named.memory()) or where it is used, and build once only what finds it (a name, a size)`,
    { path: 'value' },
  );
}

/** The error of a create-once value that would take its builder past what its values may weigh together. */
function onceOverQuota(name: string, held: number): ApartmentError {
  return new ApartmentError(
    'ERROR_BUSY',
    `[once-quota] the create-once values this apartment built weigh ${held} bytes, which are kept for the life of the process; the value built for once('${name}') would take them past ${MAX_ONCE_BUILT_BYTES}; build smaller values, reuse names, or keep such values yourself`,
  );
}

/** Named shared objects and create-once values, by name. */
export class NamedRegistry {
  /** `hostWaitMs`: how long a wait that no call carries may last (the main apartment's call deadline). */
  constructor(private readonly hostWaitMs = Infinity) {}

  private readonly entries = new Map<string, NamedEntry>();
  private readonly onces = new Map<string, OnceEntry>();
  /** Create-once values each apartment built (they outlive it). */
  private readonly built = new Map<number, number>();
  /** What the create-once values each apartment built weigh together (kept-weight.ts). */
  private readonly builtBytes = new Map<number, number>();
  /**
   * Create-once values each apartment is building now: kept until it finishes, fails or ends, so
   * they count against its quota as what it built does (a plugin could begin without end).
   */
  private readonly building = new Map<number, number>();

  private countBuilding(apartment: number, delta: number): void {
    const n = (this.building.get(apartment) ?? 0) + delta;
    if (n > 0) this.building.set(apartment, n);
    else this.building.delete(apartment);
  }

  /** Refuse a further handle for `apartment` that would take it past its quota (ERROR_BUSY). */
  private checkQuota(apartment: number, bytes: number, maxBytes: number): void {
    let handles = 0;
    let held = 0;
    for (const e of this.entries.values()) {
      if (!e.refs.has(apartment) && !e.waiters.some((w) => w.apartment === apartment)) continue;
      handles++;
      held += e.sab.byteLength;
    }
    if (handles >= MAX_NAMED_HANDLES) {
      throw new ApartmentError('ERROR_BUSY', `[named-quota] this apartment holds ${handles} named objects already (at most ${MAX_NAMED_HANDLES}); close some first`);
    }
    if (held + bytes > maxBytes) {
      throw new ApartmentError('ERROR_BUSY', `[named-quota] this apartment holds ${held} bytes of named objects; ${bytes} more would pass its ${maxBytes}; close some first`);
    }
  }

  /**
   * Open or create `name` for `apartment`. `maxBytes` caps what the apartment holds in all (an
   * apartment without shared memory gets a copy of every named memory it holds at each lock). A
   * wait for memory still being initialised ends when `signal` (the asking call's) aborts.
   */
  open(apartment: number, kind: NamedKind, name: string, bytes: number, maxBytes = MAX_NAMED_BYTES, signal?: AbortSignal, ticket?: number): NamedGrant | Promise<NamedGrant> {
    if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('[named] a named object needs a non-empty name', { parameter: 'name' });
    const e = this.entries.get(name);
    const handles = e?.refs.get(apartment);
    if (handles === undefined) this.checkQuota(apartment, bytes, maxBytes);
    else if (handles >= MAX_NAMED_HANDLES) {
      // A name it holds costs nothing more to open again, but each handle (and the ticket it was granted by) is kept until closed.
      throw new ApartmentError('ERROR_BUSY', `[named-quota] this apartment holds ${handles} handles on '${name}' already (at most ${MAX_NAMED_HANDLES}); close the ones it no longer uses first`);
    }
    if (!e) {
      const sab = new SharedArrayBuffer(bytes);
      const created: NamedEntry = { kind, sab, ready: kind !== 'memory', creator: apartment, refs: new Map(), waiters: [], granted: new Map() };
      hold(created, apartment, ticket);
      this.entries.set(name, created);
      return { sab, create: true };
    }
    if (e.kind !== kind) throw new InvalidArgumentError(`[named-kind] '${name}' is a named ${e.kind}, not a ${kind}`, { parameter: 'name' });
    if (e.sab.byteLength !== bytes) throw new InvalidArgumentError(`[named-size] named memory '${name}' has ${e.sab.byteLength} bytes, not ${bytes}`, { parameter: 'bytes' });
    if (e.ready) {
      hold(e, apartment, ticket);
      return { sab: e.sab, create: false };
    }
    // The quota counts a name once, whatever its waits: each wait is kept here until the memory is
    // published, so one apartment's waits on one name are bounded as its names are.
    let waiting = 0;
    for (const w of e.waiters) if (w.apartment === apartment) waiting++;
    if (waiting >= MAX_NAMED_HANDLES) {
      throw new ApartmentError('ERROR_BUSY', `[named-quota] this apartment waits for '${name}' ${waiting} times already (at most ${MAX_NAMED_HANDLES}); wait for the opens it made first`);
    }
    return queuedWait(() => e.waiters, (resolve: (g: NamedGrant) => void, reject: (e: Error) => void): Waiter => ({ apartment, ticket, resolve, reject }), given(signal, name, this.hostWaitMs));
  }

  /**
   * `apartment` gave up its open of `name` by `ticket` (canceled, or past its deadline) while the
   * answer may have been on its way: a wait still queued leaves; creation granted by it is given up
   * (the next waiter creates); a handle granted by it (at once or at publish) is closed. Nothing else
   * of the apartment's is touched.
   */
  giveUpOpen(apartment: number, name: string, ticket: number): void {
    const e = this.entries.get(name);
    if (!e) return;
    if (dropTicketedWait(e.waiters, apartment, ticket, () => given(undefined, name).canceled(undefined))) return;
    if (e.granted.get(apartment)?.has(ticket)) {
      // Creation not yet published passes on (close() gives it up); a handle is closed.
      this.close(apartment, name, ticket);
    }
  }

  /**
   * The creator finished initialising `name`: everyone waiting may see it now. A creator in another
   * process initialised its own copy and sends its `bytes`, written here first.
   */
  publish(apartment: number, name: string, bytes?: Uint8Array): void {
    const e = this.entries.get(name);
    if (!e || e.creator !== apartment || e.ready) throw new ApartmentError('E_UNEXPECTED', `[named-publish] only the creator of '${name}' publishes it, once`);
    if (bytes !== undefined) {
      if (bytes.byteLength !== e.sab.byteLength) throw new InvalidArgumentError(`[named-size] named memory '${name}' has ${e.sab.byteLength} bytes; its initial contents had ${bytes.byteLength}`, { parameter: 'bytes' });
      new Uint8Array(e.sab).set(bytes);
    }
    e.ready = true;
    for (const w of e.waiters.splice(0)) {
      hold(e, w.apartment, w.ticket);
      w.resolve({ sab: e.sab, create: false });
    }
  }

  /** Close one of `apartment`'s handles on `name`: the one request `ticket` was granted, when it says. */
  close(apartment: number, name: string, ticket?: number): void {
    const e = this.entries.get(name);
    const held = e?.refs.get(apartment) ?? 0;
    if (!e || held === 0) throw new ApartmentError('E_UNEXPECTED', `[named-close] this apartment holds no handle on '${name}'`);
    // A creator that closes before publishing gives creation up, as one that fails does: dropping
    // the entry would leave its waiters waiting for good.
    if (!e.ready && e.creator === apartment) return this.abandon(apartment, name);
    if (held === 1) e.refs.delete(apartment);
    else e.refs.set(apartment, held - 1);
    // Its tickets stay at most its handles: the one named goes, else the oldest (a close that names
    // none, or a hostile peer's, cannot grow them).
    const tickets = e.granted.get(apartment);
    if (tickets) {
      if (ticket !== undefined) tickets.delete(ticket);
      for (const t of tickets) if (tickets.size > held - 1) tickets.delete(t);
      if (tickets.size === 0) e.granted.delete(apartment);
    }
    if (e.refs.size === 0) this.entries.delete(name);
  }

  /** The memory of `name` when `apartment` holds a handle on it as a `kind`; undefined otherwise. */
  heldBy(apartment: number, name: string, kind: NamedKind): SharedArrayBuffer | undefined {
    const e = this.entries.get(name);
    return e && e.kind === kind && e.ready && e.refs.has(apartment) ? e.sab : undefined;
  }

  /** The named memories `apartment` holds a handle on, by name. */
  memoriesOf(apartment: number): [string, SharedArrayBuffer][] {
    return [...this.entries].filter(([, e]) => e.kind === 'memory' && e.ready && e.refs.has(apartment)).map(([name, e]) => [name, e.sab]);
  }

  /** Whether `name` is open anywhere (diagnostics and specs). */
  isOpen(name: string): boolean {
    return this.entries.has(name);
  }

  /** Build `name`, or wait for its value; a wait ends when `signal` (the asking call's) aborts. */
  onceBegin(apartment: number, name: string, signal?: AbortSignal, ticket?: number): { build: true } | { value: unknown } | Promise<{ build: true } | { value: unknown }> {
    const e = this.onces.get(name);
    if (!e) {
      const built = this.built.get(apartment) ?? 0;
      const building = this.building.get(apartment) ?? 0;
      if (built + building >= MAX_ONCE_BUILT) {
        throw new ApartmentError('ERROR_BUSY', `[once-quota] this apartment built ${built} create-once values, which are kept for the life of the process, and is building ${building} (at most ${MAX_ONCE_BUILT} in all); finish the ones begun, reuse names, or keep such values yourself`);
      }
      this.onces.set(name, { state: 'building', builder: apartment, builderTicket: ticket, waiters: [] });
      this.countBuilding(apartment, 1);
      return { build: true };
    }
    if (e.state === 'done') return { value: e.value };
    return queuedWait(() => e.waiters, (resolve: (r: { build: true } | { value: unknown }) => void, reject: (e: Error) => void): OnceWaiter => ({ apartment, ticket, resolve, reject }), given(signal, name, this.hostWaitMs));
  }

  /**
   * `apartment` gave up its onceBegin of `name` by `ticket` while the answer may have been on its
   * way: a wait still queued leaves, and building granted by it passes to the next waiter.
   */
  giveUpOnce(apartment: number, name: string, ticket: number): void {
    const e = this.onces.get(name);
    if (!e || e.state !== 'building') return;
    if (dropTicketedWait(e.waiters, apartment, ticket, () => given(undefined, name).canceled(undefined))) return;
    if (e.builder === apartment && e.builderTicket === ticket) {
      this.onceFailed(apartment, name);
    }
  }

  onceDone(apartment: number, name: string, value: unknown): void {
    const e = this.onces.get(name);
    if (!e || e.state !== 'building' || e.builder !== apartment) throw new ApartmentError('E_UNEXPECTED', `[once] only the builder of '${name}' completes it`);
    const held = this.builtBytes.get(apartment) ?? 0;
    const weight = keptBytes(value, Math.min(MAX_ONCE_VALUE_BYTES, MAX_ONCE_BUILT_BYTES - held));
    if (weight > MAX_ONCE_VALUE_BYTES || held + weight > MAX_ONCE_BUILT_BYTES) {
      // Refused as a build that failed is: the waiters are not left waiting for a value that never comes.
      this.onceFailed(apartment, name);
      throw weight > MAX_ONCE_VALUE_BYTES ? onceTooLarge(name) : onceOverQuota(name, held);
    }
    this.onces.set(name, { state: 'done', value });
    this.countBuilding(apartment, -1);
    this.built.set(apartment, (this.built.get(apartment) ?? 0) + 1);
    this.builtBytes.set(apartment, held + weight);
    for (const w of e.waiters) w.resolve({ value });
  }

  /** The builder failed or died: the next waiter builds instead (or the name is free again). */
  onceFailed(apartment: number, name: string): void {
    const e = this.onces.get(name);
    if (!e || e.state !== 'building' || e.builder !== apartment) return;
    this.countBuilding(apartment, -1);
    const next = e.waiters.shift();
    if (!next) {
      this.onces.delete(name);
      return;
    }
    e.builder = next.apartment;
    e.builderTicket = next.ticket;
    this.countBuilding(next.apartment, 1);
    next.resolve({ build: true });
  }

  /** The creator could not initialise `name`: pass creation to the next waiter, or forget it. */
  abandon(apartment: number, name: string): void {
    const e = this.entries.get(name);
    if (!e || e.ready || e.creator !== apartment) return;
    const next = e.waiters.shift();
    if (!next) {
      this.entries.delete(name);
      return;
    }
    e.refs.delete(apartment);
    e.granted.delete(apartment);
    e.creator = next.apartment;
    hold(e, next.apartment, next.ticket);
    next.resolve({ sab: e.sab, create: true });
  }

  /**
   * An apartment died, or was reset for its pool's next owner: its handles close, its waits end,
   * what it was creating passes to the next waiter, and its create-once quota is cleared.
   */
  dropApartment(apartment: number): void {
    for (const [name, e] of [...this.entries]) {
      e.refs.delete(apartment);
      e.granted.delete(apartment);
      // Creation never passes to an apartment that is gone.
      e.waiters = e.waiters.filter((w) => w.apartment !== apartment);
      if (!e.ready && e.creator === apartment) {
        const next = e.waiters.shift();
        if (next) {
          e.creator = next.apartment;
          hold(e, next.apartment, next.ticket);
          next.resolve({ sab: e.sab, create: true });
          continue;
        }
      }
      if (e.refs.size === 0 && e.waiters.length === 0) this.entries.delete(name);
    }
    for (const e of this.onces.values()) if (e.state === 'building') e.waiters = e.waiters.filter((w) => w.apartment !== apartment);
    for (const [name, e] of this.onces) if (e.state === 'building' && e.builder === apartment) this.onceFailed(apartment, name);
    // The values it built stay (they are kept for the life of the process); its quota goes with it.
    // A pooled apartment reset for its next owner starts afresh, as a new apartment would: it must
    // not inherit what an earlier owner used up.
    this.built.delete(apartment);
    this.builtBytes.delete(apartment);
  }
}
