// The options of one worker apartment as a host passes them to createApartment(), and the checks
// and defaults the launcher applies before a thread exists.
import type { ResourceLimits } from 'node:worker_threads';
import type { Reentrancy } from './admission.js';
import type { CallLimits } from './call-limits.js';
import type { LinkKind } from './links.js';
import { InvalidArgumentError } from '../marshal/errors.js';

/** Options of createApartment(). */
export interface ApartmentOptions {
  name?: string;
  resourceLimits?: ResourceLimits;
  /** Deadline of calls made from this apartment (ms; default: the runtime's). */
  defaultTimeoutMs?: number;
  /**
   * Follow call chains across awaits (default true). Turn it off in an apartment that hosts script
   * engines to be interrupted with interruptScript(): calls made there after an await then start a
   * new logical call (see docs/script-engine.md).
   */
  asyncCausality?: boolean;
  /** Transport of this apartment's links (default: the runtime's). */
  transport?: LinkKind;
  /** Admission default for objects in this apartment (default: the runtime's). */
  reentrancy?: Reentrancy;
  /** Start a replacement apartment when this one faults (objects are not resurrected). */
  restart?: 'never' | 'on-fault';
  /** How many replacements at most (default 3). */
  maxRestarts?: number;
  /** Close the apartment once nothing in it has been referenced for this long (ms). */
  idleTimeoutMs?: number;
  /** Queue limits and the overrun policy of calls into this apartment (docs/reentrancy.md). */
  callLimits?: Partial<CallLimits>;
}

/**
 * Workers inherit the host's Node flags, but one started with --input-type or --eval fails before it
 * runs a line: then pass the flags without those (and without V8's process-wide flags, which apply to
 * every thread anyway and which Worker refuses in an explicit list). Otherwise inherit as they are.
 */
export function workerExecArgv(): { execArgv?: string[] } {
  const argv = process.execArgv;
  if (!argv.some((a) => /^(--(input-type|eval|print)(=|$)|-e$|-p$)/.test(a))) return {};
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (/^--(input-type|eval|print)(=|$)/.test(a) || a === '-e' || a === '-p') {
      if (!a.includes('=') && (a === '-e' || a === '-p' || a === '--eval' || a === '--print' || a === '--input-type')) i++;
      continue;
    }
    if (/^--(expose[-_]gc|max[-_]old[-_]space[-_]size|max[-_]semi[-_]space[-_]size|stack[-_]size|jitless|allow[-_]natives[-_]syntax)/.test(a)) continue;
    out.push(a);
  }
  return { execArgv: out };
}

export function checkReentrancy(value: unknown): Reentrancy {
  if (value !== 'turn-based' && value !== 'reentrant') {
    throw new InvalidArgumentError(`[reentrancy] reentrancy must be 'turn-based' or 'reentrant'; got ${String(value)}`, { parameter: 'reentrancy' });
  }
  return value;
}
