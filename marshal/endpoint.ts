// An apartment's marshaling endpoint: it routes traffic between its channels to peers, its export
// table and its import table (proxies, loans, releases), and serves as their RefSpace and ProxyHost.
// Owner apartment only: every method runs on the apartment's own thread.
import { DisconnectedError, ProtocolError } from './errors.js';
import { callOptionsOf, type CallOptions, type RetryPolicy } from './call-options.js';
import type { EndpointStats } from './endpoint-stats.js';
import { sendWithRetry } from './call-retry.js';
import { Channel, type ChannelHandler } from './channel.js';
import { AnswerTable } from './answer-table.js';
import { decodeValue, encodeArgs, encodeValue, type RefSpace } from './codec.js';
import { ExportTable } from './export-table.js';
import { ImportTable } from './import-table.js';
import { IncomingCall, type CallDispatcher, type CallHost } from './incoming-call.js';
import { CONTROL_OID, Op, RefKind } from './protocol.js';
import type { AddRefMessage, CallMessage, NotifyMessage, ConnectMessage, PeerGoneMessage, PipelineCallMessage, ReadyMessage, RefKindCode, WireRef, WireRefs } from './protocol.js';
import { remoteStateOf as remoteOf } from './proxy.js';
import { valueType } from './value-types.js';
import type { PipelinedCall, ProxyHost, RemoteState } from './remote-state.js';
import type { LinkTraits, Transport } from './transport.js';

/** What the endpoint needs from the apartment that owns it. */
export interface EndpointOptions {
  self: number;
  defaultTimeoutMs: number;
  dispatcher: CallDispatcher;
  /**
   * The causality id an outgoing call made now carries (inherited inside a served call). For a
   * user call through a proxy it also gets the method and the peer, and may refuse the call by
   * throwing (an input-synchronous call may not call other apartments): one look at the served
   * call does both, on the hot path of every call.
   */
  causality(method?: string | number, peer?: number): number;
  /** Retry policy of calls that name none. */
  retry?: RetryPolicy;
  /** Told when the last exported object is released (the apartment holds nothing for anyone). */
  onUnreferenced?(): void;
  /** Told when this side starts (true) or stops (false) waiting for replies from `peer`. */
  busyChanged?(peer: number, busy: boolean): void;
  /** Ask the broker for a transport to `peer`; the apartment calls attach() when it arrives. */
  connect(peer: number): void;
  /** Ready, Connect and PeerGone messages, for the apartment layer. */
  onLifecycle(channel: Channel, msg: ReadyMessage | ConnectMessage | PeerGoneMessage): void;
  label(apartment: number): string;
  warn(message: string): void;
}

export type { EndpointStats };

/** One apartment's exports, proxies and channels, and the reference rules that tie them. */
export class Endpoint implements ChannelHandler, RefSpace, ProxyHost, CallHost {
  readonly exports: ExportTable;
  /** The object served at CONTROL_OID; set by the apartment before any peer connects. */
  control: object = {};
  private readonly channels = new Map<number, Channel>();
  private readonly imports: ImportTable;
  private readonly unmarshalers = new Map<string, (payload: unknown, peer: number) => unknown>();
  /** Answers of pipelined calls that peers may still target. */
  private readonly answers: AnswerTable;
  private closing = false;

  constructor(private readonly options: EndpointOptions) {
    this.imports = new ImportTable({
      self: options.self,
      host: this,
      channelTo: (peer) => this.channelTo(peer),
      channel: (peer) => this.channels.get(peer),
      label: options.label,
      warn: options.warn,
    });
    this.answers = new AnswerTable({
      self: options.self,
      dispatch: (channel, msg) => options.dispatcher.dispatch(new IncomingCall(this, channel, msg)),
      exportedOid: (value) => (value !== null && (typeof value === 'object' || typeof value === 'function') ? this.exports.oidOf(value) : undefined),
      discardIncoming: (channel, refs) => this.discardIncoming(channel, refs),
    });
    this.exports = new ExportTable(() => {
      if (this.exports.size === 0 && !this.closing) options.onUnreferenced?.();
    });
  }

  get self(): number {
    return this.options.self;
  }

  /** The channel to `peer`, created (and a connection requested) on first use. */
  channelTo(peer: number): Channel {
    let ch = this.channels.get(peer);
    if (!ch) {
      ch = new Channel(peer, this, this.options.defaultTimeoutMs, this.options.label(peer));
      this.channels.set(peer, ch);
      this.options.connect(peer);
    }
    return ch;
  }

  /** Connect the transport of a `link`-kind link to `peer` (creating the channel if this side did not ask first). */
  attach(peer: number, transport: Transport, link: LinkTraits): Channel {
    let ch = this.channels.get(peer);
    if (!ch) {
      ch = new Channel(peer, this, this.options.defaultTimeoutMs, this.options.label(peer));
      this.channels.set(peer, ch);
    }
    ch.attach(transport, link);
    return ch;
  }

  /** What the link to `peer` can carry; undefined while it is being made. */
  linkTo(peer: number): LinkTraits | undefined {
    return this.channels.get(peer)?.link;
  }

  /** The channel to `peer` while there is one (asked for or attached); a new one after the peer went and was asked for again. */
  channelIfAny(peer: number): Channel | undefined {
    return this.channels.get(peer);
  }

  /** Call a method on an object of `peer` by id (control calls; user calls go through proxies). */
  call(peer: number, oid: number, method: string | number, args: unknown[], options?: CallOptions): Promise<unknown> {
    return this.callAs(this.options.causality(), peer, oid, method, args, options);
  }

  private callAs(causality: number, peer: number, oid: number, method: string | number, args: unknown[], options: CallOptions | undefined): Promise<unknown> {
    const retry = options?.retry ?? this.options.retry;
    if (!retry || !(retry.attempts > 0)) return this.send(peer, oid, method, args, options, causality);
    return sendWithRetry(() => this.send(peer, oid, method, args, options, causality), retry, options?.signal, () => `call '${String(method)}' to ${this.options.label(peer)}`);
  }

  private send(peer: number, oid: number, method: string | number, args: unknown[], options: CallOptions | undefined, causality: number): Promise<unknown> {
    const ch = this.channelTo(peer);
    if (ch.closed) return Promise.reject(ch.closed);
    let enc;
    try {
      enc = encodeArgs(this, args, peer);
    } catch (err) {
      return Promise.reject(err);
    }
    return ch.call(oid, method, enc, options, causality);
  }

  /** A one-way notification to `peer`'s control object (`service.method`); dropped if the link is gone. */
  notify(peer: number, method: string, args: unknown[]): void {
    const ch = this.channelTo(peer);
    if (!ch.closed) ch.post([Op.Notify, method, args, this.options.causality()]);
  }

  callRemote(state: RemoteState, method: string | number, args: unknown[]): Promise<unknown> {
    if (state.released) {
      return Promise.reject(new DisconnectedError(`[released] this proxy to object ${state.oid} in ${this.options.label(state.apartment)} was released; obtain a new reference to call it`, { code: 'CO_E_OBJNOTCONNECTED' }));
    }
    if (state.disconnected) return Promise.reject(state.disconnected);
    let causality: number;
    try {
      causality = this.options.causality(method, state.apartment);
    } catch (refused) {
      return Promise.reject(refused);
    }
    // The hot path of every proxy call: the arguments as they came when no options came.
    const options = callOptionsOf(args);
    return this.callAs(causality, state.apartment, state.oid, method, options ? args.slice(0, -1) : args, options);
  }

  pipelineRemote(peer: number, oid: number, base: number, method: string | number, withOptions: unknown[]): PipelinedCall {
    // The hot path of every pipelined call: the arguments as they came when no options came.
    const options = callOptionsOf(withOptions);
    const args = options ? withOptions.slice(0, -1) : withOptions;
    const ch = this.channelTo(peer);
    const before = ch.lastCallId;
    // Told as the answer settles (no promise reaction of its own): later calls go to the arrived value.
    const settled = (): void => {
      call.open = false;
      ch.postLazily([Op.ReleaseAnswer, call.id]);
    };
    let result: Promise<unknown>;
    try {
      result = ch.call(oid, method, encodeArgs(this, args, peer), options, this.options.causality(method, peer), base, settled);
    } catch (err) {
      return { id: 0, result: Promise.reject(err), open: false };
    }
    // Id 0: the call was refused before it was sent (closed link, aborted signal): nothing to pipeline on.
    const id = ch.lastCallId === before ? 0 : ch.lastCallId;
    const call: PipelinedCall = { id, result, open: id !== 0 };
    return call;
  }

  releaseRemote(state: RemoteState): void {
    this.imports.release(state);
  }

  exportLocal(value: object, kind: RefKindCode, peer: number): [number, number, RefKindCode, number, string | 0] {
    const entry = this.exports.exportEntry(value, peer, kind);
    return [this.self, entry.oid, kind, 0, entry.grant];
  }

  marshalProxy(state: RemoteState, peer: number, proxy: object): [number, number, RefKindCode, number, string | 0] {
    // A proxy of another endpoint of this thread (another runtime's object) travels as an object of this one that forwards calls.
    return state.host === this ? this.imports.marshalProxy(state, peer) : this.exportLocal(proxy, state.kind, peer);
  }

  resolve(ref: WireRef, peer: number): unknown {
    const [, apt, oid, kind, loan, grant] = ref;
    if (apt === this.self) {
      if (loan !== 0) this.channelTo(peer).post([Op.LoanReturn, loan]);
      const entry = oid === CONTROL_OID ? undefined : this.exports.get(oid);
      if (!entry) throw new DisconnectedError(`[object-gone] object ${oid} of ${this.options.label(apt)} was released before this reference arrived; keep a reference while passing it around`);
      // A reference coming home must be one the sender was given, not a guessed object id.
      if (!entry.counts.has(peer) && grant !== entry.grant) throw this.notGranted(peer, oid, 'sent a reference to');
      return entry.object;
    }
    return this.imports.importRef(apt, oid, kind, loan, peer, grant);
  }

  /**
   * `peer` named object `oid` of this apartment without holding a reference to it or showing its
   * grant (a guessed id, or one it already released): refuse, and log it with the peer named.
   */
  notGranted(peer: number, oid: number, what: string): DisconnectedError {
    const message = `[not-granted] ${this.options.label(peer)} ${what} object ${oid} of ${this.options.label(this.self)}, which was never handed to it (or it released it); an apartment can use only references it was given`;
    this.options.warn(message);
    return new DisconnectedError(message, { code: 'CO_E_OBJNOTCONNECTED' });
  }

  /** Install how values sent by value under `key` are rebuilt in this apartment. */
  registerUnmarshaler(key: string, unmarshal: (payload: unknown, peer: number) => unknown): void {
    this.unmarshalers.set(key, unmarshal);
  }

  unmarshal(key: string, payload: unknown, peer: number): unknown {
    const fn = this.unmarshalers.get(key) ?? valueType(key);
    if (!fn) throw new ProtocolError(`[protocol] ${this.options.label(peer)} sent a value of kind '${key}' that this apartment cannot rebuild`);
    return fn(payload, peer);
  }

  discard(refs: WireRef[], peer: number): void {
    for (const [, apt, oid, kind, loan] of refs) {
      if (kind === RefKind.Value) continue;
      if (apt === this.self && loan === 0) this.exports.release(oid, peer, 1, true);
      else if (loan !== 0) this.onLoanReturn(undefined, loan);
    }
  }

  onCall(channel: Channel, msg: CallMessage): void {
    this.options.dispatcher.dispatch(new IncomingCall(this, channel, msg));
  }

  onCancel(channel: Channel, callId: number): void {
    if (!this.answers.empty && this.answers.cancel(channel, callId)) return;
    this.options.dispatcher.cancel(this, channel, callId);
  }

  onNotify(channel: Channel, msg: NotifyMessage): void {
    this.options.dispatcher.notify(this, channel, msg);
  }

  onPipelineCall(channel: Channel, msg: PipelineCallMessage): void {
    this.answers.receive(channel, msg);
  }

  onReleaseAnswer(channel: Channel, callId: number): void {
    this.answers.release(channel, callId);
  }

  answeredWithError(channel: Channel, callId: number, error: unknown): void {
    if (!this.answers.empty) this.answers.settle(channel, callId, false, error);
  }

  onAddRef(channel: Channel, msg: AddRefMessage): void {
    const [, callId, oid, count, grant] = msg;
    const entry = this.exports.get(oid);
    if (entry && !entry.counts.has(channel.peer) && grant !== entry.grant) {
      channel.replyError(callId, this.notGranted(channel.peer, oid, 'asked for a reference to'), this.self);
      return;
    }
    if (this.exports.addRef(oid, channel.peer, count)) channel.reply(callId, { value: true, refs: 0, transfer: undefined });
    else channel.replyError(callId, new DisconnectedError(`[object-gone] object ${oid} of ${this.options.label(this.self)} was released before a reference to it arrived`, { code: 'CO_E_OBJNOTCONNECTED' }), this.self);
  }

  onRelease(channel: Channel, oid: number, count: number): void {
    if (this.exports.get(oid) && !this.exports.holds(oid, channel.peer)) {
      this.notGranted(channel.peer, oid, 'released');
      return;
    }
    try {
      this.exports.release(oid, channel.peer, count);
    } catch (err) {
      this.options.warn((err as Error).message);
    }
  }

  onLoanReturn(_channel: Channel | undefined, loanId: number): void {
    this.imports.loanReturned(loanId);
  }

  onLifecycle(channel: Channel, msg: ReadyMessage | ConnectMessage | PeerGoneMessage): void {
    this.options.onLifecycle(channel, msg);
  }

  decodeResult(channel: Channel, value: unknown, refs: WireRefs): unknown {
    return decodeValue(this, value, refs, channel.peer);
  }

  discardOutgoing(channel: Channel, refs: WireRefs): void {
    if (refs !== 0) this.discard(refs, channel.peer);
  }

  discardIncoming(channel: Channel, refs: WireRefs): void {
    if (refs === 0) return;
    for (const [, apt, oid, kind, loan] of refs) {
      if (kind === RefKind.Value) continue;
      if (loan !== 0) channel.post([Op.LoanReturn, loan]);
      else if (apt !== this.self) channel.post([Op.Release, oid, 1]);
    }
  }

  warn(message: string): void {
    this.options.warn(message);
  }

  busyChanged(channel: Channel, busy: boolean): void {
    this.options.busyChanged?.(channel.peer, busy);
  }

  /** Encode and send a call's result (or the error that encoding it raised). */
  respond(channel: Channel, callId: number, value: unknown): void {
    let enc;
    try {
      enc = encodeValue(this, value, channel.peer);
    } catch (err) {
      channel.replyError(callId, err, this.self);
      return;
    }
    channel.reply(callId, enc);
    if (!this.answers.empty) this.answers.settle(channel, callId, true, value);
  }

  /**
   * A call whose arguments were decoded will never run (cancelled while queued, or refused): give
   * back the one reference each of its arrivals added, without disturbing other holders.
   */
  releaseArrivals(refs: WireRefs): void {
    if (refs === 0) return;
    for (const [, apt, oid, kind] of refs) {
      if (apt === this.self || kind === RefKind.Value) continue;
      this.imports.releaseArrival(apt, oid);
    }
  }

  /**
   * Give back one of the references this apartment holds on a proxy's object (one arrival's worth),
   * keeping the proxy usable while other holders here still count on it; the last one releases it.
   * Returns false when `value` is not a live proxy of this apartment.
   */
  releaseReference(value: unknown): boolean {
    const state = remoteOf(value);
    if (!state || state.host !== this) return false;
    this.imports.releaseOne(state);
    return true;
  }

  /** Rebuild a call's arguments (references become proxies or, coming home, the objects); a promise only if an unmarshaler must wait. */
  decodeArgs(channel: Channel, args: unknown[], refs: WireRefs): unknown[] | Promise<unknown[]> {
    return decodeValue(this, args, refs, channel.peer) as unknown[] | Promise<unknown[]>;
  }

  /**
   * `peer` closed or died: drop the references it held here, fail the calls this side has in
   * flight to it with `reason`, and disconnect the proxies into it. Their later calls fail with
   * DisconnectedError: `reason` itself after a close, one whose cause is the fault after a fault
   * (a fault is what in-flight calls see; an object of a dead apartment is merely disconnected).
   */
  peerGone(peer: number, reason: Error): void {
    // First what it answered before it went (its link may hold answers not read yet).
    this.channels.get(peer)?.collectAnswers();
    this.exports.dropImporter(peer);
    const ch = this.channels.get(peer);
    this.channels.delete(peer);
    if (ch) this.answers.drop(ch);
    ch?.close(reason);
    this.imports.peerGone(peer, reason);
    if (ch) this.options.dispatcher.callerGone(this, ch);
  }

  /** Release every proxy this apartment holds (it is being reset for another user). */
  releaseAllImports(): void {
    this.imports.releaseAll();
  }

  /** The apartment is closing: disconnect everything it exports and every proxy it holds. */
  close(reason: Error): void {
    this.closing = true;
    for (const peer of [...this.channels.keys()]) this.peerGone(peer, reason);
    this.exports.clear();
  }

  stats(): EndpointStats {
    const { proxies, loans } = this.imports.counts();
    let pendingCalls = 0;
    for (const ch of this.channels.values()) pendingCalls += ch.pendingCount;
    return { exports: this.exports.size, proxies, channels: this.channels.size, pendingCalls, loans, answers: this.answers.size };
  }
}
