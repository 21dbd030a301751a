// What a proxy knows about the remote object it stands for. One per live proxy; owned by the
// apartment that holds the proxy and touched from its thread only.
import type { RefKindCode } from './protocol.js';

/** Reads a proxy's state; on anything that is not one of our proxies it yields undefined. */
export const REMOTE_STATE: unique symbol = Symbol('apartment-runtime.remote-state');

/** Present (true) on stand-ins that are not proxies but still call elsewhere (free-pool handles). */
export const INDIRECT: unique symbol = Symbol('apartment-runtime.indirect');

/** The marshal-side facts about one imported object reference. */
export interface RemoteState {
  readonly apartment: number;
  readonly oid: number;
  readonly kind: RefKindCode;
  /** The exporter's grant for the object: shown by a third party this proxy is handed to. */
  readonly grant: string | 0;
  /** References the exporter holds on this apartment's behalf through this proxy. */
  refs: number;
  /** References lent to third parties that have not yet taken their own. */
  loansOut: number;
  /** The user released the proxy (or it was collected); calls now fail. */
  released: boolean;
  /** Set once the exporter's apartment or the object is gone: the error later calls fail with. */
  disconnected: Error | undefined;
  /** Per-method callers, made on first use and reused (no closure per call). */
  methods: Map<string, (...args: unknown[]) => Promise<unknown>> | undefined;
  /** Its pipeline() view, made on first use and reused. */
  pipelined: object | undefined;
  /** The endpoint that made the proxy: it sends the calls and the release. */
  readonly host: ProxyHost;
}

/** What a proxy needs from its apartment's endpoint. */
export interface ProxyHost {
  callRemote(state: RemoteState, method: string | number, args: unknown[]): Promise<unknown>;
  /**
   * Start a pipelined call to apartment `peer`: on object `oid`, or (`base` > 0) on the answer of
   * the earlier pipelined call `base`, before that answer has arrived.
   */
  pipelineRemote(peer: number, oid: number, base: number, method: string | number, args: unknown[]): PipelinedCall;
  releaseRemote(state: RemoteState): void;
}

/** A pipelined call that was started: its id on the channel (0 if it was never sent) and its result. */
export interface PipelinedCall {
  readonly id: number;
  readonly result: Promise<unknown>;
  /** Calls may still be pipelined on its answer: it was sent and has not settled (the callee keeps the answer). */
  open: boolean;
}
