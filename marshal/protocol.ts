// The wire protocol between apartments: types and constants only, no code (docs/protocol.md).
//
// Messages are flat tuples rather than objects: a tuple clones a little faster than an object with
// the same fields, and the first element is the discriminant that every receiver switches on.
// A transport carries a Batch (an array of messages) per postMessage, so many calls made in one
// turn cost one native hop (docs/performance.md).

/** Bumped on any change to a message's shape; apartments refuse a peer with another version. */
export const PROTOCOL_VERSION = 3;

/** Numeric opcodes, grouped in ranges: requests 1–19, responses 20–39, references 40–59, lifecycle 60–79. */
export const Op = {
  Call: 1,
  Cancel: 2,
  AddRef: 3,
  Notify: 4,
  PipelineCall: 5,
  Result: 20,
  Error: 21,
  Release: 40,
  LoanReturn: 41,
  ReleaseAnswer: 42,
  Ready: 60,
  Connect: 61,
  PeerGone: 62,
} as const;

/** The well-known object id of every apartment's control object (creation, connection, shutdown). */
export const CONTROL_OID = 0;

/** What a marshaled reference stands for on the receiving side. */
export const RefKind = {
  /** An object: arrives as a proxy whose members are methods. */
  Object: 0,
  /** A function (callback): arrives as a callable proxy. */
  Function: 1,
  /**
   * Marshal-by-value under a named unmarshaler (free-threaded objects, free-pool handles): the value
   * at the path is `{ k: key, p: payload }`; apartment is 0, and oid is 1 when the value works only
   * where memory is shared with the sender (a mutex, a free object's state), else 0.
   */
  Value: 2,
} as const;

export type RefKindCode = (typeof RefKind)[keyof typeof RefKind];

/** One step into a marshaled value: an array index or an own property key. */
export type PathStep = string | number;

/**
 * An object reference that crossed the wire (COM's OBJREF): where in the value it sits, which
 * apartment exports it, its object id there, what kind of proxy to make, the loan id when the
 * sender is not the exporter (third-party hand-off; 0 when the sender exports it), and the
 * object's grant: an unguessable string its exporter made for it, which a third party shows in its
 * AddRef to prove it was handed the object (0 when the reference goes back to its exporter, and
 * for by-value references).
 */
export type WireRef = [path: PathStep[], apartment: number, oid: number, kind: RefKindCode, loan: number, grant: string | 0];

/** The references found in a value, or 0 when it holds none (the common, cheap case). */
export type WireRefs = WireRef[] | 0;

/** An error as it crosses the wire: rebuilt on arrival from a table of known classes. */
export interface WireError {
  name: string;
  message: string;
  stack: string | undefined;
  code: string | undefined;
  cause: WireError | undefined;
  /** Own enumerable properties that could be cloned, other than the fields above. */
  props: Record<string, unknown> | undefined;
  /** The apartment the error was thrown in. */
  apartment: number;
}

/**
 * Ambient context a feature carries with a call (a W3C `traceparent` for OpenTelemetry): a short
 * string, at most MAX_CARRIED_CONTEXT characters; left off when there is none.
 */
export type CarriedContext = string;

/** The longest carried context a receiver accepts. */
export const MAX_CARRIED_CONTEXT = 512;

/**
 * Invoke `method` on object `oid`: by name, or by index into the interface the object's class
 * declares (generated stubs); method '' calls a function reference itself.
 */
export type CallMessage = [
  op: typeof Op.Call,
  callId: number,
  oid: number,
  method: string | number,
  args: unknown[],
  refs: WireRefs,
  causality: number,
  context?: CarriedContext,
];

/** The caller gave up on call `callId`; the callee should stop or skip it. */
export type CancelMessage = [op: typeof Op.Cancel, callId: number];

/**
 * Take `count` more references on `oid` for the sender; answered by Result (true) or Error. The
 * sender must hold a reference already or show the object's grant (a third-party hand-off).
 */
export type AddRefMessage = [op: typeof Op.AddRef, callId: number, oid: number, count: number, grant: string | 0];

/**
 * A one-way call to the receiver's control object (`service.method`): no reply and no deadline.
 * It carries plain data only (no references), for notifications such as log lines and wait edges.
 */
export type NotifyMessage = [op: typeof Op.Notify, method: string, args: unknown[], causality: number];

/**
 * Promise pipelining: a call whose answer the callee keeps until ReleaseAnswer, so later calls may
 * target it before its reply arrives. With `base` 0 it calls `method` on object `oid`; with `base`
 * > 0 (an earlier PipelineCall of the sender on this channel, `oid` 0) it calls `method` on the
 * object that call answers, once it has answered, in arrival order. A failed base fails it with the
 * base's error. Answered by Result or Error like a Call.
 */
export type PipelineCallMessage = [
  op: typeof Op.PipelineCall,
  callId: number,
  oid: number,
  base: number,
  method: string | number,
  args: unknown[],
  refs: WireRefs,
  causality: number,
  context?: CarriedContext,
];

/** Call `callId` returned `value`. */
export type ResultMessage = [op: typeof Op.Result, callId: number, value: unknown, refs: WireRefs];

/** Call `callId` threw, or could not be delivered. */
export type ErrorMessage = [op: typeof Op.Error, callId: number, error: WireError];

/** Drop `count` references the sender holds on `oid`. */
export type ReleaseMessage = [op: typeof Op.Release, oid: number, count: number];

/** The receiver of a third-party reference took its own reference; the lender may drop its loan. */
export type LoanReturnMessage = [op: typeof Op.LoanReturn, loan: number];

/** The sender has the answer of its PipelineCall `callId` and will target it no more: forget it. */
export type ReleaseAnswerMessage = [op: typeof Op.ReleaseAnswer, callId: number];

/** First message of a worker apartment: it serves calls from now on. */
export type ReadyMessage = [op: typeof Op.Ready, version: number, apartment: number];

/** The broker hands over one end of a direct link to apartment `peer`: the link kind's name and the end, which the receiver checks. */
export type ConnectMessage = [op: typeof Op.Connect, peer: number, kind: string, end: unknown];

/** Apartment `peer` closed or faulted: drop its references, disconnect proxies into it. */
export type PeerGoneMessage = [op: typeof Op.PeerGone, peer: number, reason: WireError];

/** Every message a channel may carry. */
export type Message =
  | CallMessage
  | CancelMessage
  | AddRefMessage
  | NotifyMessage
  | PipelineCallMessage
  | ResultMessage
  | ErrorMessage
  | ReleaseMessage
  | LoanReturnMessage
  | ReleaseAnswerMessage
  | ReadyMessage
  | ConnectMessage
  | PeerGoneMessage;

/** What one transport send carries: the messages queued in one turn, in order. */
export type Batch = Message[];
