// What an apartment does about calls that pile up or outlive their callers: how many calls may
// wait for their turn (per object, per caller and per apartment) before new ones are refused with retry-later,
// and how long a call may keep its object's turn after its caller gave up on it (timeout or
// cancel) before the turn is handed on — or the apartment is faulted, if the host prefers a clean
// restart to a wedged object. Checked once, when the apartment is created.
import { InvalidArgumentError, shownValue } from '../marshal/errors.js';
import { checkOptionKeys, optionKeys } from '../marshal/option-keys.js';

/** What happens to a call still running past its overrun grace. */
export type OverrunAction = 'hand-on' | 'fault';

/** The limits of one apartment; every field has a default. */
export interface CallLimits {
  /** Calls that may wait for their turn on one object; more are refused with retry-later (default 10 000). */
  readonly maxQueuedPerObject: number;
  /** Calls that may wait for their turn in the whole apartment (default 50 000). */
  readonly maxQueuedPerApartment: number;
  /**
   * Calls of one caller (an apartment with a direct link here, or the host for everything it relays)
   * that may wait at once (default: maxQueuedPerApartment less a quarter of it, kept for the others).
   */
  readonly maxQueuedPerCaller: number;
  /** How long a call may run on after its caller gave up before its object's turn is handed on (ms; default 1 000). */
  readonly overrunGraceMs: number;
  /** 'hand-on' (default): log, count and let the next call in; 'fault': fault the apartment instead. */
  readonly onOverrun: OverrunAction;
}
/** The keys callLimits takes; any other is refused. */
const CALL_LIMIT_KEYS = optionKeys<CallLimits>({ maxQueuedPerObject: true, maxQueuedPerApartment: true, maxQueuedPerCaller: true, overrunGraceMs: true, onOverrun: true });

export const DEFAULT_CALL_LIMITS: CallLimits = Object.freeze({
  maxQueuedPerObject: 10_000,
  maxQueuedPerApartment: 50_000,
  maxQueuedPerCaller: callerShare(50_000),
  overrunGraceMs: 1_000,
  onOverrun: 'hand-on',
});

/** Apply the defaults to a host's partial limits; InvalidArgumentError names a bad field. */
export function resolveCallLimits(given: Partial<CallLimits> | undefined): CallLimits {
  if (given === undefined) return DEFAULT_CALL_LIMITS;
  if (given === null || typeof given !== 'object') {
    throw new InvalidArgumentError('[call-limits] callLimits must be an object such as { maxQueuedPerObject: 1000 }', { parameter: 'callLimits' });
  }
  checkOptionKeys(given, CALL_LIMIT_KEYS, 'createApartment({ callLimits })', 'callLimits');
  const apartment = given.maxQueuedPerApartment ?? DEFAULT_CALL_LIMITS.maxQueuedPerApartment;
  const limits = { ...DEFAULT_CALL_LIMITS, maxQueuedPerCaller: callerShare(apartment), ...given };
  for (const key of ['maxQueuedPerObject', 'maxQueuedPerApartment', 'maxQueuedPerCaller'] as const) {
    if (!Number.isInteger(limits[key]) || limits[key] < 1) {
      throw new InvalidArgumentError(`[call-limits] callLimits.${key} must be a whole number ≥ 1; got ${shownValue(limits[key])}`, { parameter: `callLimits.${key}` });
    }
  }
  if (!(typeof limits.overrunGraceMs === 'number' && limits.overrunGraceMs >= 0 && limits.overrunGraceMs <= 2_147_483_647)) {
    throw new InvalidArgumentError(`[call-limits] callLimits.overrunGraceMs must be a number of milliseconds ≥ 0; got ${shownValue(limits.overrunGraceMs)}`, { parameter: 'callLimits.overrunGraceMs' });
  }
  if (limits.onOverrun !== 'hand-on' && limits.onOverrun !== 'fault') {
    throw new InvalidArgumentError(`[call-limits] callLimits.onOverrun must be 'hand-on' or 'fault'; got ${shownValue(limits.onOverrun)}`, { parameter: 'callLimits.onOverrun' });
  }
  return Object.freeze({
    maxQueuedPerObject: limits.maxQueuedPerObject,
    maxQueuedPerApartment: limits.maxQueuedPerApartment,
    maxQueuedPerCaller: limits.maxQueuedPerCaller,
    overrunGraceMs: limits.overrunGraceMs,
    onOverrun: limits.onOverrun,
  });
}

/** One caller's default share of an apartment's queue: all but a quarter of it (all of a queue under 4). */
function callerShare(maxQueuedPerApartment: number): number {
  return maxQueuedPerApartment - Math.floor(maxQueuedPerApartment / 4);
}
