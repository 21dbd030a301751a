// Per-call options travel as a marked last argument, so a proxy method keeps the signature of the
// interface it stands for: `await calc.add(2, callOptions({ timeoutMs: 100 }))`.

/** What a single call may override: its deadline and a signal that cancels it. */
export interface CallOptionsInit {
  /** Milliseconds before the call fails with CallTimeoutError (default: the runtime's). */
  timeoutMs?: number;
  /** Aborting it rejects the call with CallCanceledError at once and tells the callee. */
  signal?: AbortSignal;
}

/** A marked bag of per-call options; only instances of this class are stripped from arguments. */
export class CallOptions implements CallOptionsInit {
  readonly timeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  constructor(init: CallOptionsInit) {
    this.timeoutMs = init.timeoutMs;
    this.signal = init.signal;
  }
}

/** Build the options argument to pass last to a proxy method. */
export function callOptions(init: CallOptionsInit): CallOptions {
  return new CallOptions(init);
}
