// One call as it reaches the apartment that serves it: the endpoint wraps each Call message that
// arrives (or a pipelined call once its target resolved) in an IncomingCall and hands it to the
// apartment's CallDispatcher, which needs nothing else to refuse, run or answer it. Owner
// apartment only; immutable once made.
import type { Channel } from './channel.js';
import type { DisconnectedError } from './errors.js';
import type { ExportTable } from './export-table.js';
import type { CallMessage, NotifyMessage, WireRefs } from './protocol.js';

/** What a dispatcher may ask of the endpoint a call arrived at (the Endpoint implements it). */
export interface CallHost {
  /** This apartment's id. */
  readonly self: number;
  /** What this apartment exports, by object id. */
  readonly exports: ExportTable;
  /** The object served at CONTROL_OID. */
  readonly control: object;
  /** The error for a peer naming object `oid` it holds no reference to. */
  notGranted(peer: number, oid: number, what: string): DisconnectedError;
  /** Give back the references a message carried that will never be decoded. */
  discardIncoming(channel: Channel, refs: WireRefs): void;
  /** Give back the references decoded arguments added, for a call that will never run. */
  releaseArrivals(refs: WireRefs): void;
  /** Encode and send a call's result. */
  respond(channel: Channel, callId: number, value: unknown): void;
  /** Rebuild a call's arguments; a promise only if an unmarshaler must wait. */
  decodeArgs(channel: Channel, args: unknown[], refs: WireRefs): unknown[] | Promise<unknown[]>;
}

/** One call to serve: where it came from, what it names, and the ways to answer it (each answers once). */
export class IncomingCall {
  constructor(readonly host: CallHost, readonly channel: Channel, readonly message: CallMessage) {}

  get callId(): number {
    return this.message[1];
  }

  get oid(): number {
    return this.message[2];
  }

  /** The member called: a name, or an index into the target's interface manifest. */
  get method(): string | number {
    return this.message[3];
  }

  get refs(): WireRefs {
    return this.message[5];
  }

  get causality(): number {
    return this.message[6];
  }

  /** The apartment that made the call. */
  get caller(): number {
    return this.channel.peer;
  }

  /** Rebuild the arguments here (references become proxies, or objects coming home). */
  decodeArgs(): unknown[] | Promise<unknown[]> {
    return this.host.decodeArgs(this.channel, this.message[4], this.message[5]);
  }

  /** Answer with the result. */
  reply(value: unknown): void {
    this.host.respond(this.channel, this.message[1], value);
  }

  /** Answer with an error (the arguments were decoded, or carried no references). */
  fail(error: unknown): void {
    this.channel.replyError(this.message[1], error, this.host.self);
  }

  /** Refuse before the arguments were decoded: give back the references they carried, then answer. */
  refuse(error: unknown): void {
    this.host.discardIncoming(this.channel, this.message[5]);
    this.fail(error);
  }

  /** Refuse after the arguments were decoded: give back what they added here, then answer. */
  withdraw(error: unknown): void {
    this.host.releaseArrivals(this.message[5]);
    this.fail(error);
  }
}

/** Runs incoming calls (admission, then the stub); implemented by the apartment's dispatcher. */
export interface CallDispatcher {
  dispatch(call: IncomingCall): void;
  cancel(host: CallHost, channel: Channel, callId: number): void;
  /** A one-way notification for the control object: run it, answer nothing. */
  notify(host: CallHost, channel: Channel, msg: NotifyMessage): void;
  /**
   * The caller behind `channel` is gone: its calls here that have not started never start, and running ones see their signal
   * abort. Told after the caller's proxies here are disconnected, so a call that calls back when its signal aborts finds them so.
   */
  callerGone(host: CallHost, channel: Channel): void;
}
