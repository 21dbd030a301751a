// The options of one worker apartment as a host passes them to createApartment(), and the checks
// the launcher applies before the apartment's host starts.
import type { ResourceLimits } from 'node:worker_threads';
import type { Reentrancy } from './admission.js';
import type { CallLimits } from './call-limits.js';
import { InvalidArgumentError, shownValue } from '../marshal/errors.js';

/** Options of createApartment(). */
export interface ApartmentOptions {
  name?: string;
  resourceLimits?: ResourceLimits;
  /** Deadline of calls made from this apartment (ms; default: the runtime's). */
  defaultTimeoutMs?: number;
  /**
   * Follow call chains across awaits (default true). Off, calls made after an await start a new
   * logical call (see docs/reentrancy.md); scripts can be interrupted either way.
   */
  asyncCausality?: boolean;
  /** The link kind of this apartment's links, by registered name (default: the runtime's). */
  transport?: string;
  /** Admission default for objects in this apartment (default: the runtime's). */
  reentrancy?: Reentrancy;
  /** Start a replacement apartment when this one faults (objects are not resurrected). */
  restart?: 'never' | 'on-fault';
  /** How many replacements at most (default 3; Infinity: no limit). */
  maxRestarts?: number;
  /** Close the apartment once nothing in it has been referenced for this long (ms; Infinity: never). */
  idleTimeoutMs?: number;
  /** Queue limits and the overrun policy of calls into this apartment (docs/reentrancy.md). */
  callLimits?: Partial<CallLimits>;
  /**
   * How long its thread, process or node may take to say it is ready (ms; default 60 000). Past it
   * the apartment faults with a CallTimeoutError cause and its start fails, instead of waiting on a
   * host that is stuck (a process whose main thread a plugin holds, a node that never boots it).
   */
  startTimeoutMs?: number;
}

/** The default of ApartmentOptions.startTimeoutMs: generous, as a loaded machine starts threads slowly. */
export const DEFAULT_START_TIMEOUT_MS = 60_000;

export function checkReentrancy(value: unknown): Reentrancy {
  if (value !== 'turn-based' && value !== 'reentrant') {
    throw new InvalidArgumentError(`[reentrancy] reentrancy must be 'turn-based' or 'reentrant'; got ${shownValue(value)}`, { parameter: 'reentrancy' });
  }
  return value;
}

/**
 * Refuse a restart policy that cannot be followed: another word than 'never' or 'on-fault' meant
 * never restarting, a NaN maxRestarts restarted without end, and one without restart: 'on-fault'
 * was ignored.
 */
export function checkRestart(restart: unknown, maxRestarts: unknown): void {
  if (restart !== undefined && restart !== 'never' && restart !== 'on-fault') {
    throw new InvalidArgumentError(`[restart] restart must be 'never' or 'on-fault'; got ${shownValue(restart)}`, { parameter: 'restart' });
  }
  if (maxRestarts !== undefined && restart !== 'on-fault') {
    throw new InvalidArgumentError(`[restart] maxRestarts counts the replacements of restart: 'on-fault', and restart is ${restart === undefined ? "left out (no restarts)" : `'${restart}'`}; add restart: 'on-fault' or leave maxRestarts out`, { parameter: 'maxRestarts' });
  }
  if (maxRestarts !== undefined && !(maxRestarts === Infinity || (Number.isInteger(maxRestarts) && (maxRestarts as number) >= 0))) {
    throw new InvalidArgumentError(`[restart] maxRestarts must be a whole number ≥ 0 (Infinity for no limit), or left out for 3; got ${shownValue(maxRestarts)}`, { parameter: 'maxRestarts' });
  }
}
