// Per-call options travel as a marked last argument, so a proxy method keeps the signature of the
// interface it stands for: `await calc.add(2, callOptions({ timeoutMs: 100 }))`. They are checked
// when made, where the mistake is: a `signal` that was no AbortSignal used to fail the call with a
// TypeError, leave it in its channel's table, and crash the process when the channel closed.
import { MAX_TIMER_MS } from './long-timer.js';
import { InvalidArgumentError, shownValue } from './errors.js';
import { adoptSignal, isForeignSignal } from './foreign-signal.js';
import { checkOptionKeys, optionKeys, type OptionKeys } from './option-keys.js';

/** How a caller retries a call the callee asked to retry later (RPC_E_SERVERCALL_RETRYLATER). */
export interface RetryPolicy {
  /** Retries after the first attempt; 0 gives up at once (the caller sees CallRejectedError). */
  attempts: number;
  /** Wait before each retry, in ms (0: retry now). */
  delayMs?: number;
}
const RETRY_POLICY_KEYS = optionKeys<RetryPolicy>({ attempts: true, delayMs: true });

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
const CALL_OPTION_KEYS = optionKeys<CallOptionsInit>({ timeoutMs: true, signal: true, retry: true });

/** A marked bag of per-call options; only instances of this class are stripped from arguments. */
export class CallOptions implements CallOptionsInit {
  readonly timeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly retry: RetryPolicy | undefined;
  constructor(init: CallOptionsInit) {
    if (init === null || typeof init !== 'object') {
      throw new InvalidArgumentError(`[call-options] callOptions() takes an object such as { timeoutMs: 100 }; got ${init === null ? 'null' : typeof init}`, { parameter: 'options' });
    }
    // Per call, so only own keys are walked, against a Set: nothing is allocated unless one is unknown.
    checkOptionKeys(init, CALL_OPTION_KEYS, 'callOptions()');
    this.timeoutMs = checkTimeoutMs(init.timeoutMs, 'timeoutMs');
    this.signal = checkAbortSignal(init.signal, 'signal', 'call-options');
    this.retry = checkRetryPolicy(init.retry, 'retry');
    // What was checked is what is followed.
    Object.freeze(this);
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

/**
 * `timeoutMs` as given when it is a positive number of milliseconds (Infinity: no limit), or left
 * out; InvalidArgumentError [`tag`] naming `parameter` otherwise (a NaN deadline never fired).
 */
export function checkTimeoutMs(timeoutMs: unknown, parameter: string, tag = 'timeout'): number | undefined {
  if (timeoutMs === undefined || (typeof timeoutMs === 'number' && timeoutMs > 0)) return timeoutMs;
  throw new InvalidArgumentError(`[${tag}] ${parameter} must be a positive number of milliseconds (Infinity for no limit), or left out for the default; got ${shownValue(timeoutMs)}`, { parameter });
}

/**
 * `options` when it is an options object with only `known` keys, `{}` when left out;
 * InvalidArgumentError [`tag`] naming `parameter` otherwise (null failed with a TypeError deep
 * inside, a number was taken for none), or [unknown-option] for a key nobody reads (a typo).
 */
export function checkOptionsObject<T extends object>(options: T | undefined, what: string, example: string, tag: string, known: OptionKeys, parameter = 'options'): T {
  if (options === undefined) return {} as T;
  if (options !== null && typeof options === 'object') {
    checkOptionKeys(options, known, what, parameter);
    return options;
  }
  throw new InvalidArgumentError(`[${tag}] ${what} takes an options object such as ${example}, or nothing; got ${options === null ? 'null' : typeof options}`, { parameter });
}

/**
 * `value` when it is true, false or left out; InvalidArgumentError [`tag`] naming `parameter`
 * otherwise (a 'false' from the environment was taken for true, a 1 for false).
 */
export function checkFlag(value: unknown, parameter: string, tag: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  const got = typeof value === 'string' ? `'${value.slice(0, 40)}'` : typeof value === 'number' ? String(value) : value === null ? 'null' : typeof value;
  throw new InvalidArgumentError(`[${tag}] ${parameter} must be true or false, or left out; got ${got}`, { parameter });
}

/**
 * `signal` when it is an AbortSignal, an AbortSignal following it when it is a polyfill's or another
 * realm's (foreign-signal.ts), or left out; InvalidArgumentError [`tag`] naming `parameter`
 * otherwise (one without listeners threw a TypeError later). Use what it returns, not `signal`.
 */
export function checkAbortSignal(signal: unknown, parameter: string, tag: string): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  if (isForeignSignal(signal)) return adoptSignal(signal);
  throw new InvalidArgumentError(`[${tag}] ${parameter} must be an AbortSignal (an AbortController's .signal, or AbortSignal.timeout()); leave it out for none`, { parameter });
}

/** `policy` when it is a retry policy a caller can follow, or left out; InvalidArgumentError naming `parameter` otherwise. */
export function checkRetryPolicy(policy: unknown, parameter: string): RetryPolicy | undefined {
  if (policy === undefined) return undefined;
  const fix = `${parameter} is { attempts, delayMs? }: attempts a whole number ≥ 0, delayMs a number of milliseconds from 0 to ${MAX_TIMER_MS}`;
  if (policy === null || typeof policy !== 'object') throw new InvalidArgumentError(`[retry] ${fix}; got ${policy === null ? 'null' : typeof policy}`, { parameter });
  checkOptionKeys(policy, RETRY_POLICY_KEYS, `the retry policy (${parameter})`, parameter);
  const { attempts, delayMs } = policy as { attempts?: unknown; delayMs?: unknown };
  if (!(Number.isInteger(attempts) && (attempts as number) >= 0)) throw new InvalidArgumentError(`[retry] ${fix}; got attempts ${shownValue(attempts)}`, { parameter });
  if (delayMs !== undefined && !(typeof delayMs === 'number' && delayMs >= 0 && delayMs <= MAX_TIMER_MS)) {
    throw new InvalidArgumentError(`[retry] ${fix}; got delayMs ${shownValue(delayMs)}`, { parameter });
  }
  // A copy: a policy changed after the check is not the one followed.
  return delayMs === undefined ? { attempts: attempts as number } : { attempts: attempts as number, delayMs };
}
