// An apartment's imports: one proxy per imported object (COM's proxy manager), the references
// each proxy holds on its exporter, the references lent to third parties during a hand-off, and
// the releases that give them back. Owner apartment only: every method runs on its thread.
import { ApartmentFaultedError, DisconnectedError, ProtocolError } from './errors.js';
import type { Channel } from './channel.js';
import { Op, type RefKindCode } from './protocol.js';
import { createProxy, remoteStateOf as remoteOf } from './proxy.js';
import type { ProxyHost, RemoteState } from './remote-state.js';
import { IdTable } from './id-table.js';

/** What the import table needs from its endpoint. */
export interface ImportTableOptions {
  readonly self: number;
  /** The proxies' host: it sends their calls. */
  readonly host: ProxyHost;
  /** The channel to `peer`, connected on first use. */
  channelTo(peer: number): Channel;
  /** The channel to `peer` if one exists (releases are not worth a new connection). */
  channel(peer: number): Channel | undefined;
  label(apartment: number): string;
  warn(message: string): void;
}

interface Loan {
  state: RemoteState;
  borrower: number;
}

/** Proxies, loans and releases of one apartment. */
export class ImportTable {
  /** Proxies by exporting apartment and oid; oids rise and proxies come and go with calls, hence an IdTable (id-table.ts). */
  private readonly proxies = new Map<number, IdTable<WeakRef<object>>>();
  private readonly loans = new Map<number, Loan>();
  private nextLoan = 1;
  private readonly finalizer = new FinalizationRegistry<RemoteState>((state) => {
    if (!state.released) this.release(state);
  });

  constructor(private readonly options: ImportTableOptions) {}

  /** The proxy for object `oid` of `apt`, received from `peer` (with `loan` when `peer` is not the exporter). */
  importRef(apt: number, oid: number, kind: RefKindCode, loan: number, peer: number, grant: string | 0): object {
    if (loan === 0 && apt !== peer) throw new ProtocolError(`[protocol] ${this.options.label(peer)} sent a reference to an object of ${this.options.label(apt)} without a loan`);
    const existing = this.liveProxy(apt, oid);
    if (existing) {
      const state = remoteOf(existing)!;
      if (loan === 0) state.refs++;
      else this.options.channelTo(peer).post([Op.LoanReturn, loan]);
      return existing;
    }
    const state: RemoteState = {
      apartment: apt, oid, kind, grant, refs: 1, loansOut: 0, released: false, disconnected: undefined, methods: undefined, pipelined: undefined, host: this.options.host,
    };
    const proxy = createProxy(state);
    let table = this.proxies.get(apt);
    if (!table) this.proxies.set(apt, (table = new IdTable()));
    table.set(oid, new WeakRef(proxy));
    this.finalizer.register(proxy, state, state);
    if (loan !== 0) {
      // Take our own reference from the exporter, then give the lender its loan back. Our later
      // Release travels on the same channel as this AddRef, so it can never overtake it.
      const lender = this.options.channelTo(peer);
      this.options.channelTo(apt).addRef(oid, 1, grant).then(
        () => lender.post([Op.LoanReturn, loan]),
        (err: unknown) => {
          state.disconnected = this.laterCallsError(apt, err instanceof Error ? err : new DisconnectedError(String(err)));
          state.refs = 0;
          lender.post([Op.LoanReturn, loan]);
        },
      );
    }
    return proxy;
  }

  /** Pass a proxy on to `peer`: as is to its exporter, or with a loan of one of our references to a third party. */
  marshalProxy(state: RemoteState, peer: number): [number, number, RefKindCode, number, string | 0] {
    if (state.released) throw new DisconnectedError(`[released] a released proxy cannot be passed to another apartment; pass a live reference`, { code: 'CO_E_OBJNOTCONNECTED' });
    if (state.disconnected) throw state.disconnected;
    if (state.apartment === peer) return [state.apartment, state.oid, state.kind, 0, 0];
    const loan = this.nextLoan++;
    this.loans.set(loan, { state, borrower: peer });
    state.loansOut++;
    return [state.apartment, state.oid, state.kind, loan, state.grant];
  }

  /** The user released the proxy (or it was collected): give back every reference it holds. */
  release(state: RemoteState): void {
    if (state.released) return;
    state.released = true;
    this.finalizer.unregister(state);
    const table = this.proxies.get(state.apartment);
    const ref = table?.get(state.oid);
    if (ref && (ref.deref() === undefined || remoteOf(ref.deref()!) === state)) table!.delete(state.oid);
    if (state.loansOut === 0) this.sendRelease(state);
  }

  private sendRelease(state: RemoteState): void {
    if (state.refs === 0 || state.disconnected) return;
    const ch = this.options.channel(state.apartment);
    if (ch && !ch.closed) ch.postLazily([Op.Release, state.oid, state.refs]);
    state.refs = 0;
  }

  /** A third party took its own reference: the loan `loanId` ends. */
  loanReturned(loanId: number): void {
    const loan = this.loans.get(loanId);
    if (!loan) {
      this.options.warn(`[loan] unknown loan ${loanId} returned; ignored`);
      return;
    }
    this.loans.delete(loanId);
    loan.state.loansOut--;
    if (loan.state.released && loan.state.loansOut === 0) this.sendRelease(loan.state);
  }

  /** Give back one arrival's worth of references on the proxy of `apt`/`oid`, if there is one. */
  releaseArrival(apt: number, oid: number): void {
    this.releaseOne(remoteOf(this.proxies.get(apt)?.get(oid)?.deref()));
  }

  /**
   * Give back one of the references held on a proxy's object, keeping the proxy usable while other
   * holders here still count on it; the last one releases it.
   */
  releaseOne(state: RemoteState | undefined): void {
    if (!state || state.released || state.disconnected) return;
    if (state.refs > 1) {
      state.refs--;
      this.options.channel(state.apartment)?.post([Op.Release, state.oid, 1]);
    } else {
      this.release(state);
    }
  }

  /** `peer` is gone: disconnect the proxies into it and settle the loans that involve it. */
  peerGone(peer: number, reason: Error): void {
    const table = this.proxies.get(peer);
    this.proxies.delete(peer);
    const later = this.laterCallsError(peer, reason);
    if (table) for (const ref of table.values()) {
      const state = remoteOf(ref.deref());
      if (state && !state.disconnected) state.disconnected = later;
    }
    for (const [id, loan] of this.loans) {
      if (loan.state.apartment === peer) this.loans.delete(id);
      else if (loan.borrower === peer) this.loanReturned(id);
    }
  }

  /** What calls on a proxy into `peer` fail with once `reason` cut it off: a fault becomes the cause of a DisconnectedError. */
  laterCallsError(peer: number, reason: Error): Error {
    if (!(reason instanceof ApartmentFaultedError)) return reason;
    const why = reason.cause instanceof Error ? reason.cause.message : String(reason.cause ?? 'no cause given');
    return new DisconnectedError(`[disconnected] ${this.options.label(peer)} faulted (${why}); its objects are disconnected — create new objects in a live apartment`, { cause: reason });
  }

  /** Release every proxy (the apartment is being reset for another user). */
  releaseAll(): void {
    for (const table of [...this.proxies.values()]) for (const ref of [...table.values()]) {
      const state = remoteOf(ref.deref());
      if (state) this.release(state);
    }
  }

  /** Live proxies and outstanding loans, for stats. */
  counts(): { proxies: number; loans: number } {
    let proxies = 0;
    for (const table of this.proxies.values()) for (const ref of table.values()) {
      const state = remoteOf(ref.deref());
      if (state && !state.released && !state.disconnected) proxies++;
    }
    return { proxies, loans: this.loans.size };
  }

  private liveProxy(apt: number, oid: number): object | undefined {
    const proxy = this.proxies.get(apt)?.get(oid)?.deref();
    if (!proxy) return undefined;
    const state = remoteOf(proxy)!;
    return state.released || state.disconnected ? undefined : proxy;
  }
}
