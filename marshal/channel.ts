// A channel is this apartment's end of the link to one peer apartment. It owns the calls this side
// has in flight to the peer (ids never reused, deadlines, cancellation), batches everything sent in
// one turn into one transport send, and validates every incoming message before handing it to the
// handler in one exhaustive switch. Owner apartment only.
import { CallCanceledError, CallTimeoutError, DisconnectedError, MarshalError, ProtocolError } from './errors.js';
import type { CallOptions } from './call-options.js';
import { decodeError, encodeError, isWireError } from './error-codec.js';
import { findUncloneable, formatPath, type Encoded } from './codec.js';
import { Op, PROTOCOL_VERSION, type AddRefMessage, type Batch, type CallMessage, type NotifyMessage, type ConnectMessage, type Message, type PeerGoneMessage, type ReadyMessage, type WireRefs } from './protocol.js';
import type { Transferable, Transport } from './transport.js';
import { activeTrace, TraceKind } from './trace-hook.js';

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

interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  deadline: number;
  method: string;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const KNOWN_OPS = new Set<number>(Object.values(Op));
/**
 * A batch is sent as soon as it holds this many messages, without waiting for the end of the
 * turn, so the peer starts on the first calls while this side is still producing the rest (one
 * giant batch per turn makes the two threads take turns instead of overlapping).
 */
const MAX_BATCH = 32;
const isId = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;

/** One apartment's link to one peer: outgoing calls, batching, incoming validation. */
export class Channel {
  private transport: Transport | undefined;
  private outbox: Message[] = [];
  private outTransfers: (Transferable[] | undefined)[] | undefined;
  private flushQueued = false;
  private nextCallId = 1;
  private readonly pending = new Map<number, PendingCall>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closedWith: Error | undefined;

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

  /** Connect the transport; anything queued before now is sent first. */
  attach(transport: Transport): void {
    this.transport = transport;
    transport.listen(this.receive, (cause) => this.handlerClose(cause));
    if (this.outbox.length > 0) this.flush();
  }

  setKeepAlive(keepAlive: boolean): void {
    this.transport?.setKeepAlive(keepAlive);
  }

  /** Start a call; settles with the result, the callee's error, a timeout, a cancel or a close. */
  call(oid: number, method: string | number, enc: Encoded, options: CallOptions | undefined, causality: number): Promise<unknown> {
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
    const deadline = performance.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const entry: PendingCall = { resolve, reject, deadline, method: typeof method === 'number' ? `#${method}` : method, signal, onAbort: undefined };
      this.pending.set(id, entry);
      if (this.pending.size === 1) this.handler.busyChanged(this, true);
      if (signal) {
        entry.onAbort = () => this.cancel(id, signal.reason);
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      if (deadline < this.timerAt) this.armTimer(deadline);
      activeTrace?.record(TraceKind.Send, causality, this.peer, id, method, oid);
      this.queue([Op.Call, id, oid, method, enc.value as unknown[], enc.refs, causality], enc.transfer);
    });
  }

  /** Ask the peer for `count` more references on `oid`; resolves when it has taken them. */
  addRef(oid: number, count: number): Promise<unknown> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextCallId++;
    const deadline = performance.now() + this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, deadline, method: '(addref)', signal: undefined, onAbort: undefined });
      if (this.pending.size === 1) this.handler.busyChanged(this, true);
      if (deadline < this.timerAt) this.armTimer(deadline);
      this.queue([Op.AddRef, id, oid, count]);
    });
  }

  /** Queue a one-way message; it goes out with everything else sent this turn. */
  post(msg: Message, transfer?: Transferable[]): void {
    if (this.closedWith) return;
    this.queue(msg, transfer);
  }

  reply(callId: number, enc: Encoded): void {
    if (this.closedWith) {
      this.handler.discardOutgoing(this, enc.refs);
      return;
    }
    this.queue([Op.Result, callId, enc.value, enc.refs], enc.transfer);
  }

  replyError(callId: number, error: unknown, self: number): void {
    this.post([Op.Error, callId, encodeError(error, self)]);
  }

  /** Close the channel: every pending call rejects with `cause`; later sends are dropped. */
  close(cause: Error): void {
    if (this.closedWith) return;
    this.closedWith = cause;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const calls = [...this.pending.values()];
    const wasBusy = this.pending.size > 0;
    this.pending.clear();
    if (wasBusy) this.handler.busyChanged(this, false);
    for (const c of calls) this.settle(c, false, cause);
    if (this.outbox.length > 0) this.flush();
    this.transport?.close();
  }

  private handlerClose(cause: unknown): void {
    const reason = cause ?? new DisconnectedError(`[apartment-gone] the link to ${this.peerLabel} closed (it closed or died); its objects are disconnected`);
    this.handler.onLifecycle(this, [Op.PeerGone, this.peer, encodeError(reason, this.peer)]);
  }

  /** Drop a settled call from the pending table. */
  private forget(callId: number): void {
    if (!this.pending.delete(callId)) return;
    activeTrace?.record(TraceKind.Reply, -1, this.peer, callId, '', 0);
    if (this.pending.size === 0) this.handler.busyChanged(this, false);
  }

  private queue(msg: Message, transfer: Transferable[] | undefined = undefined): void {
    if (transfer && transfer.length > 0) (this.outTransfers ??= [])[this.outbox.length] = transfer;
    this.outbox.push(msg);
    if (this.outbox.length >= MAX_BATCH && this.transport) {
      this.flush();
      return;
    }
    if (!this.flushQueued && this.transport) {
      this.flushQueued = true;
      queueMicrotask(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushQueued = false;
    if (!this.transport || this.outbox.length === 0) return;
    const batch = this.outbox;
    const transfers = this.outTransfers;
    this.outbox = [];
    this.outTransfers = undefined;
    try {
      this.transport.send(batch, transfers ? transfers.flat() as Transferable[] : undefined);
    } catch (err) {
      this.resendOneByOne(batch, transfers, err);
    }
  };

  /** A batch failed to clone: send its messages one by one and fail only the ones that cannot go. */
  private resendOneByOne(batch: Batch, transfers: (Transferable[] | undefined)[] | undefined, batchError: unknown): void {
    for (let i = 0; i < batch.length; i++) {
      const msg = batch[i]!;
      try {
        this.transport!.send([msg], transfers?.[i]);
      } catch (err) {
        this.undeliverable(msg, err ?? batchError);
      }
    }
  }

  private undeliverable(msg: Message, err: unknown): void {
    if (msg[0] === Op.Call) {
      const found = findUncloneable(msg[4]);
      const where = formatPath('args', found?.path ?? []);
      this.handler.discardOutgoing(this, msg[5]);
      const entry = this.pending.get(msg[1]);
      if (entry) {
        this.forget(msg[1]);
        this.settle(entry, false, new MarshalError(`[marshal] ${where} of call '${msg[3]}' cannot be copied to another apartment (${found?.reason ?? String(err)}); pass plain data, or wrap objects with byRef()`, { path: where, cause: err }));
      }
    } else if (msg[0] === Op.Result) {
      const found = findUncloneable(msg[2]);
      const where = formatPath('result', found?.path ?? []);
      this.handler.discardOutgoing(this, msg[3]);
      this.post([Op.Error, msg[1], encodeError(new MarshalError(`[marshal] ${where} cannot be copied back to the caller (${found?.reason ?? String(err)}); return plain data, or wrap objects with byRef()`, { path: where }), -1)]);
    } else {
      this.handler.warn(`[channel] dropped an unsendable message (op ${msg[0]}) to ${this.peerLabel}: ${String(err)}`);
    }
  }

  private readonly receive = (data: unknown): void => {
    if (this.closedWith) return;
    if (!Array.isArray(data)) {
      this.malformed(undefined, 'a batch must be an array of messages');
      return;
    }
    for (let i = 0; i < data.length; i++) {
      try {
        this.dispatch(data[i]);
      } catch (err) {
        this.handler.warn(`[channel] handler failed on a message from ${this.peerLabel}: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
  };

  private dispatch(raw: unknown): void {
    if (!Array.isArray(raw) || !KNOWN_OPS.has(raw[0])) {
      this.malformed(raw, 'unknown opcode');
      return;
    }
    const msg = raw as Message;
    switch (msg[0]) {
      case Op.Call:
        if (isId(msg[1]) && isId(msg[2]) && (typeof msg[3] === 'string' || isId(msg[3])) && Array.isArray(msg[4]) && isRefs(msg[5]) && typeof msg[6] === 'number') {
          this.handler.onCall(this, msg);
        } else this.malformed(msg, 'Call needs [op, callId, oid, method, args[], refs, causality]');
        return;
      case Op.Cancel:
        if (isId(msg[1])) this.handler.onCancel(this, msg[1]);
        else this.malformed(msg, 'Cancel needs [op, callId]');
        return;
      case Op.Notify:
        if (typeof msg[1] === 'string' && Array.isArray(msg[2]) && typeof msg[3] === 'number') this.handler.onNotify(this, msg);
        else this.malformed(msg, 'Notify needs [op, method, args[], causality]');
        return;
      case Op.AddRef:
        if (isId(msg[1]) && isId(msg[2]) && isId(msg[3]) && msg[3] > 0) this.handler.onAddRef(this, msg);
        else this.malformed(msg, 'AddRef needs [op, callId, oid, count>0]');
        return;
      case Op.Result:
        if (isId(msg[1]) && isRefs(msg[3])) this.settleResult(msg[1], msg[2], msg[3]);
        else this.malformed(msg, 'Result needs [op, callId, value, refs]');
        return;
      case Op.Error:
        if (isId(msg[1]) && isWireError(msg[2])) this.settleError(msg[1], decodeError(msg[2]));
        else this.malformed(msg, 'Error needs [op, callId, error]');
        return;
      case Op.Release:
        if (isId(msg[1]) && isId(msg[2]) && msg[2] > 0) this.handler.onRelease(this, msg[1], msg[2]);
        else this.malformed(msg, 'Release needs [op, oid, count>0]');
        return;
      case Op.LoanReturn:
        if (isId(msg[1])) this.handler.onLoanReturn(this, msg[1]);
        else this.malformed(msg, 'LoanReturn needs [op, loan]');
        return;
      case Op.Ready:
        if (msg[1] !== PROTOCOL_VERSION) {
          this.handler.onLifecycle(this, [Op.PeerGone, this.peer, encodeError(new ProtocolError(`[protocol-version] ${this.peerLabel} speaks protocol ${String(msg[1])}, this side ${PROTOCOL_VERSION}; run one version of apartment-runtime in every thread`, { code: 'RPC_E_VERSION_MISMATCH' }), this.peer)]);
        } else if (isId(msg[2])) this.handler.onLifecycle(this, msg);
        else this.malformed(msg, 'Ready needs [op, version, apartment]');
        return;
      case Op.Connect:
        if (isId(msg[1]) && msg[2] !== null && typeof msg[2] === 'object') this.handler.onLifecycle(this, msg);
        else this.malformed(msg, 'Connect needs [op, peer, port]');
        return;
      case Op.PeerGone:
        if (isId(msg[1]) && isWireError(msg[2])) this.handler.onLifecycle(this, msg);
        else this.malformed(msg, 'PeerGone needs [op, peer, reason]');
        return;
      default: {
        const unreachable: never = msg;
        this.malformed(unreachable, 'unknown opcode');
      }
    }
  }

  private settleResult(callId: number, value: unknown, refs: WireRefs): void {
    const entry = this.pending.get(callId);
    if (!entry) {
      // A late answer to a call that already timed out or was cancelled: give back what it carried.
      this.handler.discardIncoming(this, refs);
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
    this.settle(entry, false, error);
  }

  private settle(entry: PendingCall, ok: boolean, value: unknown): void {
    if (entry.onAbort) entry.signal!.removeEventListener('abort', entry.onAbort);
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

  private malformed(raw: unknown, why: string): void {
    const op = Array.isArray(raw) ? raw[0] : undefined;
    const id = Array.isArray(raw) ? raw[1] : undefined;
    const err = new ProtocolError(`[protocol] malformed message from ${this.peerLabel} (${why}); the message was dropped — check that both sides run the same apartment-runtime`);
    if ((op === Op.Call || op === Op.AddRef) && isId(id)) {
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

  private armTimer(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.expire, Math.max(0, at - performance.now()) + 1);
    this.timer.unref();
  }

  /** Fail every call past its deadline, then re-arm for the earliest one left. */
  private readonly expire = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [id, entry] of this.pending) {
      if (entry.deadline <= now) {
        this.forget(id);
        this.settle(entry, false, new CallTimeoutError(`[timeout] call '${entry.method}' to ${this.peerLabel} did not finish before its deadline; raise timeoutMs (runtime, apartment or callOptions) or look for a hung or deadlocked callee`));
        this.post([Op.Cancel, id]);
      } else if (entry.deadline < next) next = entry.deadline;
    }
    if (next !== Infinity) this.armTimer(next);
  };
}

function isRefs(x: unknown): x is WireRefs {
  if (x === 0) return true;
  if (!Array.isArray(x)) return false;
  for (const r of x) {
    if (!Array.isArray(r) || !Array.isArray(r[0]) || !isId(r[1]) || !isId(r[2]) || (r[3] !== 0 && r[3] !== 1 && r[3] !== 2) || !isId(r[4])) return false;
    for (const step of r[0]) if (typeof step !== 'string' && typeof step !== 'number') return false;
  }
  return true;
}
