// Per-call options travel as a marked last argument, so a proxy method keeps the signature of the
// interface it stands for: `await calc.add(2, callOptions({ timeoutMs: 100 }))`.

/** How a caller retries a call the callee asked to retry later (RPC_E_SERVERCALL_RETRYLATER). */
export interface RetryPolicy {
  /** Retries after the first attempt; 0 gives up at once (the caller sees CallRejectedError). */
  attempts: number;
  /** Wait before each retry, in ms (0: retry now). */
  delayMs?: number;
}

/**
 * What a single call may override: its deadline, a signal that cancels it, its retry policy. Each
 * may be given as undefined (the default), so the class below implements it under
 * exactOptionalPropertyTypes too.
 */
export interface CallOptionsInit {
  /** Milliseconds before the call fails with CallTimeoutError (default: the runtime's). */
  timeoutMs?: number | undefined;
  /** Aborting it rejects the call with CallCanceledError at once and tells the callee. */
  signal?: AbortSignal | undefined;
  /** Retry policy when the callee's message filter answers retry-later. */
  retry?: RetryPolicy | undefined;
}

/** A marked bag of per-call options; only instances of this class are stripped from arguments. */
export class CallOptions implements CallOptionsInit {
  readonly timeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly retry: RetryPolicy | undefined;
  constructor(init: CallOptionsInit) {
    this.timeoutMs = init.timeoutMs;
    this.signal = init.signal;
    this.retry = init.retry;
  }
}

/** Build the options argument to pass last to a proxy method. */
export function callOptions(init: CallOptionsInit): CallOptions {
  return new CallOptions(init);
}

/** The CallOptions a proxy call's caller put last, if it did. */
export function callOptionsOf(args: unknown[]): CallOptions | undefined {
  const last = args.length > 0 ? args[args.length - 1] : undefined;
  return last instanceof CallOptions ? last : undefined;
}
