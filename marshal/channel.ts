// A channel is this apartment's end of the link to one peer apartment. It owns the calls this side
// has in flight to the peer (ids never reused, deadlines, cancellation), batches everything sent in
// one turn into one transport send, and validates every incoming message before handing it to the
// handler in one exhaustive switch. Owner apartment only.
import { CallCanceledError, CallRejectedError, DisconnectedError, ProtocolError, shownValue } from './errors.js';
import { CANCEL_ANSWER_MS, DeadlineTimer, timeoutClosed, timeoutFromAnswer, type PendingCall, timeoutLateResult, timeoutUnanswered, unsettled } from './call-timeout.js';
import type { CallOptions } from './call-options.js';
import { decodeError, describeThrown, encodeError } from './error-codec.js';
import { isRuntimeError, sendFailure, uncloneable } from './clone-failure.js';
import { uncarriable, type Encoded } from './codec.js';
import { isId, MAX_BATCH_MESSAGES, messageProblem } from './message-checks.js';
import { Op, PROTOCOL_VERSION, type AddRefMessage, type CallMessage, type NotifyMessage, type ConnectMessage, type Message, type PeerGoneMessage, type PipelineCallMessage, type ReadyMessage, type WireRefs } from './protocol.js';
import type { LinkTraits, Transferable, Transport } from './transport.js';
import { Outbox } from './outbox.js';
import { IdTable } from './id-table.js';
import { activeTrace, TraceKind } from './trace-hook.js';
import { withCarriedContext } from './context-carrier.js';

/** What a channel hands incoming traffic to (the apartment's endpoint). */
export interface ChannelHandler {
  onCall(channel: Channel, msg: CallMessage): void;
  onCancel(channel: Channel, callId: number): void;
  /** A one-way notification for the control object. */
  onNotify(channel: Channel, msg: NotifyMessage): void;
  onAddRef(channel: Channel, msg: AddRefMessage): void;
  onRelease(channel: Channel, oid: number, count: number): void;
  onLoanReturn(channel: Channel, loan: number): void;
  onLifecycle(channel: Channel, msg: ReadyMessage | ConnectMessage | PeerGoneMessage): void;
  /** Promise pipelining: a call on a kept answer, the peer forgetting one, this side failing a call. */
  onPipelineCall(channel: Channel, msg: PipelineCallMessage): void;
  onReleaseAnswer(channel: Channel, callId: number): void;
  answeredWithError(channel: Channel, callId: number, error: unknown): void;
  /** Rebuild a result value (its references become proxies); may throw to fail the call. */
  decodeResult(channel: Channel, value: unknown, refs: WireRefs): unknown;
  /** References in a message that will never be delivered or used: give them back. */
  discardOutgoing(channel: Channel, refs: WireRefs): void;
  discardIncoming(channel: Channel, refs: WireRefs): void;
  /** The channel dropped something it could not use (malformed or late); for the runtime's log. */
  warn(message: string): void;
  /** This side started (true) or stopped (false) waiting for replies: the runtime refs the thread only while busy. */
  busyChanged(channel: Channel, busy: boolean): void;
}

/** Malformed messages a peer may send before its link is faulted (each one is logged). */
const MAX_MALFORMED = 32;

/** One apartment's link to one peer: outgoing calls, batching, incoming validation. */
export class Channel {
  private transport: Transport | undefined;
  private readonly outbox = new Outbox((msg, err) => this.undeliverable(msg, err));
  private nextCallId = 1;
  /** Calls in flight by call id (an IdTable: a Map here left old-space garbage on every call). */
  private readonly pending = new IdTable<PendingCall>();
  /** Fires at the earliest deadline of the calls in flight. */
  private readonly deadlines = new DeadlineTimer(() => this.expire());
  private closedWith: Error | undefined;
  /** The link was faulted for what the peer sent: nothing more from it is read. */
  private faulted = false;
  private malformedCount = 0;
  /** The peer is gone and what it sent last is being read: its answers only (collectAnswers). */
  private answersOnly = false;

  constructor(
    readonly peer: number,
    private readonly handler: ChannelHandler,
    private readonly defaultTimeoutMs: number,
    /** Human name of the peer for error messages, e.g. "apartment 'plugins-1' (2)". */
    readonly peerLabel: string,
  ) {}

  get closed(): Error | undefined {
    return this.closedWith;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** What the link can carry, as its kind declares; undefined until the link is attached. */
  link: LinkTraits | undefined;

  /** Connect the transport of a link of kind `link`; anything queued before now is sent first. */
  attach(transport: Transport, link: LinkTraits): void {
    this.transport = transport;
    this.link = link;
    transport.listen(this.receive, (cause) => this.handlerClose(cause));
    this.outbox.attach(transport);
    // Calls queued before the link's kind was known that it cannot carry fail now, each alone.
    if (this.outbox.size > 0 && (!link.sharedMemory || link.carries !== 'clone')) this.outbox.refuse((msg, transfer) => (msg[0] === Op.Call ? uncarriable(msg[4], msg[5], transfer, link) : undefined));
    if (this.outbox.size > 0) this.outbox.flush();
  }

  setKeepAlive(keepAlive: boolean): void {
    this.transport?.setKeepAlive(keepAlive);
  }

  /** The id of the call started last (a pipelined call names it as its base). */
  get lastCallId(): number { return this.nextCallId - 1; }

  /**
   * Start a call; settles with the result, the callee's error, a timeout, a cancel or a close. With
   * `base` ≥ 0 it is a PipelineCall whose answer the callee keeps (protocol.ts).
   */
  call(oid: number, method: string | number, enc: Encoded, options: CallOptions | undefined, causality: number, base = -1, settled?: () => void): Promise<unknown> {
    if (this.closedWith) {
      this.handler.discardOutgoing(this, enc.refs);
      return Promise.reject(this.closedWith);
    }
    const signal = options?.signal;
    if (signal?.aborted) {
      this.handler.discardOutgoing(this, enc.refs);
      return Promise.reject(new CallCanceledError(`[canceled] call '${method}' to ${this.peerLabel} was cancelled before it was sent`, { cause: signal.reason }));
    }
    const id = this.nextCallId++;
    const timeoutMs = options?.timeoutMs ?? this.defaultTimeoutMs;
    const deadline = this.deadlines.now() + timeoutMs;
    const entry: PendingCall = { resolve: unsettled, reject: unsettled, deadline, method: typeof method === 'number' ? `#${method}` : method, signal, onAbort: undefined, timeoutMs, settled };
    // The executor captures the entry alone: a closure over every local here was a third of a call's garbage.
    const promise = new Promise<unknown>((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
    });
    try {
      this.pending.set(id, entry);
      if (this.pending.size === 1) this.handler.busyChanged(this, true);
      if (signal) {
        entry.onAbort = () => this.cancel(id, signal.reason);
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      if (deadline < this.deadlines.at) this.deadlines.arm(deadline);
      activeTrace?.record(TraceKind.Send, causality, this.peer, id, method, oid);
      const args = enc.value as unknown[];
      this.outbox.queue(withCarriedContext(base < 0 ? [Op.Call, id, oid, method, args, enc.refs, causality] : [Op.PipelineCall, id, oid, base, method, args, enc.refs, causality]), enc.transfer);
    } catch (err) {
      entry.reject(err);
    }
    return promise;
  }

  /**
   * Ask the peer for `count` more references on `oid` (showing its `grant` for a hand-off); resolves when it has
   * taken them. No deadline: giving up while it may still be served would leak its count.
   */
  addRef(oid: number, count: number, grant: string | 0 = 0): Promise<unknown> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextCallId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, deadline: Infinity, method: '(addref)', signal: undefined, onAbort: undefined, timeoutMs: Infinity });
      if (this.pending.size === 1) this.handler.busyChanged(this, true);
      this.outbox.queue([Op.AddRef, id, oid, count, grant]);
    });
  }

  /** Queue a one-way message; it goes out with everything else sent this turn. */
  post(msg: Message, transfer?: Transferable[]): void {
    if (!this.closedWith) this.outbox.queue(msg, transfer);
  }

  /** Queue a one-way message that may wait for the next batch (Outbox.queueLazily). */
  postLazily(msg: Message): void {
    if (!this.closedWith) this.outbox.queueLazily(msg);
  }

  reply(callId: number, enc: Encoded): void {
    if (this.closedWith) {
      this.handler.discardOutgoing(this, enc.refs);
      return;
    }
    this.outbox.queue([Op.Result, callId, enc.value, enc.refs], enc.transfer);
  }

  replyError(callId: number, error: unknown, self: number): void {
    this.post([Op.Error, callId, encodeError(error, self)]);
    this.handler.answeredWithError(this, callId, error);
  }

  /** The peer is gone: read its answers sent before it went, so a call it answered settles with the answer (not after a fault). */
  collectAnswers(): void {
    if (this.closedWith || this.faulted || this.pending.size === 0 || !this.transport?.deliverArrived) return;
    this.answersOnly = true;
    this.transport.deliverArrived();
  }

  /** Close the channel: every pending call rejects with `cause` (one past its deadline with a timeout caused by it); later sends are dropped. */
  close(cause: Error): void {
    if (this.closedWith) return;
    this.closedWith = cause;
    this.deadlines.clear();
    const calls = [...this.pending.values()];
    const wasBusy = this.pending.size > 0;
    this.pending.clear();
    if (wasBusy) this.handler.busyChanged(this, false);
    for (const c of calls) this.settle(c, false, c.expired ? timeoutClosed(c, this.peerLabel, cause) : cause);
    if (this.outbox.size > 0) this.outbox.flush();
    this.transport?.close();
  }

  private handlerClose(cause: unknown): void {
    // Faulted here: the apartment was already told why.
    if (this.faulted) return;
    if (cause instanceof ProtocolError) {
      // The transport faulted the link for what the peer wrote (a malformed ring record or port item).
      this.handler.warn(`[protocol] the link to ${this.peerLabel} was faulted: ${cause.message}`);
    }
    const reason = cause ?? new DisconnectedError(`[apartment-gone] the link to ${this.peerLabel} closed (it closed or died); its objects are disconnected`);
    this.handler.onLifecycle(this, [Op.PeerGone, this.peer, encodeError(reason, this.peer)]);
  }

  /** Drop a settled call from the pending table. */
  private forget(callId: number): void {
    if (!this.pending.delete(callId)) return;
    activeTrace?.record(TraceKind.Reply, -1, this.peer, callId, '', 0);
    if (this.pending.size === 0) this.handler.busyChanged(this, false);
  }

  private undeliverable(msg: Message, err: unknown): void {
    // A refusal for now (CallRejectedError: the peer is not reading) fails a call as it is, and drops an answer.
    if (msg[0] === Op.Call || msg[0] === Op.PipelineCall) {
      const [refs, args, method] = msg[0] === Op.Call ? [msg[5], msg[4], msg[3]] : [msg[6], msg[5], msg[4]];
      this.handler.discardOutgoing(this, refs);
      const entry = this.pending.get(msg[1]);
      if (!entry) return;
      this.forget(msg[1]);
      this.settle(entry, false, sendFailure(args, err, method));
    } else if (msg[0] === Op.Result) {
      this.handler.discardOutgoing(this, msg[3]);
      if (isRuntimeError(err, CallRejectedError)) this.handler.warn(`[channel] dropped the result of call ${msg[1]} to ${this.peerLabel}: ${describeThrown(err)}`);
      else this.post([Op.Error, msg[1], encodeError(uncloneable('result', msg[2], err), -1)]);
    } else {
      this.handler.warn(`[channel] dropped an unsendable message (op ${msg[0]}) to ${this.peerLabel}: ${describeThrown(err)}`);
    }
  }

  private readonly receive = (data: unknown): void => {
    if (this.closedWith || this.faulted) return;
    if (!Array.isArray(data)) {
      this.malformed(undefined, 'a batch must be an array of messages');
      return;
    }
    if (data.length > MAX_BATCH_MESSAGES) return this.fault(`a batch of ${data.length} messages, more than ${MAX_BATCH_MESSAGES}`);
    for (let i = 0; i < data.length && !this.faulted; i++) {
      try {
        this.dispatch(data[i]);
      } catch (err) {
        this.handler.warn(`[channel] handler failed on a message from ${this.peerLabel}: ${err instanceof Error && typeof err.stack === 'string' ? err.stack : describeThrown(err)}`);
      }
    }
    // Replies to calls served synchronously leave now, not after this turn's microtasks (outbox.ts).
    this.outbox.sendEarly();
  };

  private dispatch(raw: unknown): void {
    const why = messageProblem(raw);
    if (why !== undefined) {
      this.malformed(raw, why);
      return;
    }
    const msg = raw as Message;
    if (this.answersOnly && msg[0] !== Op.Result && msg[0] !== Op.Error) return this.unanswerable(msg);
    switch (msg[0]) {
      case Op.Call:
        return this.handler.onCall(this, msg);
      case Op.PipelineCall:
        return this.handler.onPipelineCall(this, msg);
      case Op.ReleaseAnswer:
        return this.handler.onReleaseAnswer(this, msg[1]);
      case Op.Cancel:
        return this.handler.onCancel(this, msg[1]);
      case Op.Notify:
        return this.handler.onNotify(this, msg);
      case Op.AddRef:
        return this.handler.onAddRef(this, msg);
      case Op.Result:
        return this.settleResult(msg[1], msg[2], msg[3]);
      case Op.Error:
        return this.settleError(msg[1], decodeError(msg[2]));
      case Op.Release:
        return this.handler.onRelease(this, msg[1], msg[2]);
      case Op.LoanReturn:
        return this.handler.onLoanReturn(this, msg[1]);
      case Op.Ready:
        if (msg[1] === PROTOCOL_VERSION) return this.handler.onLifecycle(this, msg);
        return this.faultWith(new ProtocolError(`[protocol-version] ${this.peerLabel} speaks protocol ${shownValue(msg[1])}, this side ${PROTOCOL_VERSION}; its link was faulted — run one version of apartment-runtime in every thread`, { code: 'RPC_E_VERSION_MISMATCH' }));
      case Op.Connect:
      case Op.PeerGone:
        return this.handler.onLifecycle(this, msg);
      default: {
        const unreachable: never = msg;
        this.malformed(unreachable, 'unknown opcode');
      }
    }
  }

  /** A message from a peer that is gone, read after it went: the references it carried are given back. */
  private unanswerable(msg: Message): void {
    if (msg[0] === Op.Call) this.handler.discardIncoming(this, msg[5]);
    else if (msg[0] === Op.PipelineCall) this.handler.discardIncoming(this, msg[6]);
  }

  private settleResult(callId: number, value: unknown, refs: WireRefs): void {
    const entry = this.pending.get(callId);
    if (!entry || entry.expired) {
      // A late answer to a call that already timed out or was cancelled: give back what it carried.
      this.handler.discardIncoming(this, refs);
      if (entry) { this.forget(callId); this.settle(entry, false, timeoutLateResult(entry, this.peerLabel)); }
      return;
    }
    this.forget(callId);
    let decoded: unknown;
    try {
      decoded = this.handler.decodeResult(this, value, refs);
    } catch (err) {
      this.settle(entry, false, err);
      return;
    }
    this.settle(entry, true, decoded);
  }

  private settleError(callId: number, error: Error): void {
    const entry = this.pending.get(callId);
    if (!entry) return;
    this.forget(callId);
    // Past its deadline, the callee's answer to the cancel (or the call's own late failure) says whether it started.
    this.settle(entry, false, entry.expired ? timeoutFromAnswer(entry, this.peerLabel, error) : error);
  }

  private settle(entry: PendingCall, ok: boolean, value: unknown): void {
    if (entry.onAbort) entry.signal!.removeEventListener('abort', entry.onAbort);
    entry.settled?.();
    if (ok) entry.resolve(value);
    else entry.reject(value);
  }

  private cancel(callId: number, reason: unknown): void {
    const entry = this.pending.get(callId);
    if (!entry) return;
    this.forget(callId);
    this.settle(entry, false, new CallCanceledError(`[canceled] call '${entry.method}' to ${this.peerLabel} was cancelled by its caller`, { cause: reason }));
    this.post([Op.Cancel, callId]);
  }

  /**
   * The peer sent something no well-behaved peer sends (or too much of what is malformed): log it
   * with the peer's name, stop reading from it, close the link, and tell the apartment the peer is
   * gone for this reason. Every other link and the thread itself keep running.
   */
  fault(why: string): void {
    this.faultWith(new ProtocolError(`[protocol] ${this.peerLabel} sent ${why}; its link was faulted — a peer that breaks the protocol is cut off`));
  }

  private faultWith(err: ProtocolError): void {
    if (this.faulted || this.closedWith) return;
    this.faulted = true;
    this.handler.warn(err.message);
    this.handler.onLifecycle(this, [Op.PeerGone, this.peer, encodeError(err, this.peer)]);
    this.transport?.close();
  }

  private malformed(raw: unknown, why: string): void {
    if (++this.malformedCount > MAX_MALFORMED) {
      this.fault(`more than ${MAX_MALFORMED} malformed messages (the last: ${why})`);
      return;
    }
    const op = Array.isArray(raw) ? raw[0] : undefined;
    const id = Array.isArray(raw) ? raw[1] : undefined;
    const err = new ProtocolError(`[protocol] malformed message from ${this.peerLabel} (${why}); the message was dropped — check that both sides run the same apartment-runtime`);
    if ((op === Op.Call || op === Op.AddRef || op === Op.PipelineCall) && isId(id)) {
      this.post([Op.Error, id, encodeError(err, -1)]);
      return;
    }
    if ((op === Op.Result || op === Op.Error) && isId(id) && this.pending.has(id)) {
      const entry = this.pending.get(id)!;
      this.forget(id);
      this.settle(entry, false, err);
      return;
    }
    this.handler.warn(err.message);
  }

  /** Fail every call past its deadline, then re-arm for the earliest one left. */
  private expire(): void {
    const now = this.deadlines.now();
    let next = Infinity;
    for (const [id, entry] of this.pending) {
      if (entry.deadline <= now && !entry.expired) {
        // Cancel it and give the callee a moment to say whether it had started (it answers every Cancel).
        entry.expired = true;
        entry.deadline = now + CANCEL_ANSWER_MS;
        this.post([Op.Cancel, id]);
      } else if (entry.deadline <= now) {
        this.forget(id);
        this.settle(entry, false, timeoutUnanswered(entry, this.peerLabel));
        continue;
      }
      if (entry.deadline < next) next = entry.deadline;
    }
    if (next !== Infinity) this.deadlines.arm(next);
  }
}
