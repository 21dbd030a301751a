// A call this side has in flight on a channel: how to settle it, its deadline, and its cancel
// signal. Owned by the channel that sent the call.

/** One outgoing call waiting for its answer. */
export interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  deadline: number;
  method: string;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}
