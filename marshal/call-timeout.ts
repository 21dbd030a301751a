// What a caller tells its user when a call passes its deadline. The channel cancels the call and
// waits a moment for the callee's answer to the cancel, which says whether the call had started;
// this file turns that answer (or its absence, or a late result) into the CallTimeoutError.
import { CallCanceledError, CallTimeoutError } from './errors.js';
import { MAX_TIMER_MS } from './long-timer.js';
import { monotonicMs } from './monotonic-clock.js';
import { outsideCalls } from './outside-calls.js';

/**
 * How long a timed-out call waits at most for the callee's answer to its cancel. Not scaled down
 * with a short timeout: a live thread on a loaded machine may take a while to answer, and without
 * the answer the error cannot say whether the call started.
 */
export const CANCEL_ANSWER_MS = 2_000;

/** The timed-out call, as the error names it. */
export interface TimedOutCall {
  readonly method: string;
  readonly timeoutMs: number;
}

/** A call a channel has in flight (owned by that channel). */
export interface PendingCall extends TimedOutCall {
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  deadline: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Told synchronously when the call settles, before its promise is (a pipelined call's answer is no longer open). */
  settled?: () => void;
  /** Past its deadline and cancelled: waiting (until the new deadline) for the callee to say whether it had started. */
  expired?: boolean;
}

/** A pending call's settle functions until its promise's executor has run (it runs at once). */
export const unsettled = (): void => {};

/** The CallTimeoutError for `call` to `peerLabel`; `why` says what became of it. */
export function timeoutError(call: TimedOutCall, peerLabel: string, started: boolean | undefined, why: string, cause?: unknown): CallTimeoutError {
  return new CallTimeoutError(`[timeout] call '${call.method}' to ${peerLabel} did not finish within ${call.timeoutMs} ms: ${why}; raise timeoutMs (runtime, apartment or callOptions) or look for a hung or deadlocked callee`, { started, cause });
}

/** The callee answered a timed-out call: the answer to its cancel, or the call's own late failure. */
export function timeoutFromAnswer(call: TimedOutCall, peerLabel: string, answer: Error): CallTimeoutError {
  const state = answer instanceof CallCanceledError ? (answer as { callState?: unknown }).callState : 'failed';
  switch (state) {
    case 'running':
      return timeoutError(call, peerLabel, true, 'it had started, and its currentCall().signal was aborted');
    case 'queued':
      return timeoutError(call, peerLabel, false, 'it had not started (it waited for its turn on a busy object) and never will');
    case 'failed':
      return timeoutError(call, peerLabel, true, 'it failed after its deadline', answer);
    default:
      return timeoutError(call, peerLabel, undefined, 'it was no longer known to the callee');
  }
}

/** No answer came: the callee's thread is busy or hung. */
export function timeoutUnanswered(call: TimedOutCall, peerLabel: string): CallTimeoutError {
  return timeoutError(call, peerLabel, undefined, 'the callee did not say whether it had started (its thread did not answer: busy or hung)');
}

/** The call's result came after its deadline: it ran, and the result is dropped. */
export function timeoutLateResult(call: TimedOutCall, peerLabel: string): CallTimeoutError {
  return timeoutError(call, peerLabel, true, 'it finished after its deadline and its result was dropped');
}

/** The link closed while a call past its deadline waited for the answer to its cancel: a timeout still, caused by the close. */
export function timeoutClosed(call: TimedOutCall, peerLabel: string, cause: Error): CallTimeoutError {
  return timeoutError(call, peerLabel, undefined, 'its link closed before the callee said whether it had started', cause);
}

/** One timer for the earliest deadline of a channel's calls in flight. Owner apartment only. */
export class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;
  /** When it fires (monotonicMs() time); Infinity when it is not armed. */
  at = Infinity;

  constructor(private readonly due: () => void) {}

  /** The clock deadlines are on: ms, monotonic-clock.ts. */
  now(): number {
    return monotonicMs();
  }

  /** Fire at `at` instead of when it was armed for. */
  arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.at = at;
    // +1: a timer may fire up to a millisecond early by this clock. A Node timer past
    // MAX_TIMER_MS fires after 1 ms (and warns): a deadline weeks away re-armed itself every
    // millisecond. It fires at the cap instead, finds nothing due, and is armed again.
    // Outside calls: the timer serves every call of the channel, not the one that armed it, and
    // would hold that call's arguments until it fires (outside-calls.ts).
    this.timer = outsideCalls(() => setTimeout(this.fire, Math.min(MAX_TIMER_MS, Math.max(0, at - monotonicMs()) + 1)));
    this.timer.unref();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.at = Infinity;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.at = Infinity;
    this.due();
  };
}
