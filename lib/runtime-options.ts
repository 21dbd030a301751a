// The options and events of the runtime facade, and their validation: what a host passes to
// Runtime.start(), createApartment() and createObjectWith(), and what the runtime emits.
import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import type { Reentrancy } from '../apartments/admission.js';
import type { Apartment } from '../apartments/apartment.js';
import type { AssignmentSpec } from '../apartments/assignment.js';
import { checkLinkKind, type LinkKind } from '../apartments/links.js';
import type { RetryPolicy } from '../marshal/call-options.js';
import { InvalidArgumentError, type ApartmentFaultedError } from './errors.js';
import { stderrLogger, type LogEntry, type Logger } from './logger.js';

/** Options of Runtime.start(). */
export interface RuntimeOptions {
  /** Deadline of every call unless overridden per call (ms; default 30 000). */
  defaultTimeoutMs?: number;
  /** Where runtime log lines go (default: JSON lines on stderr). */
  logger?: Logger;
  /** How externally created objects are assigned to worker apartments (default 'single-thread'). */
  assignment?: AssignmentSpec;
  /** The most apartments all assignment policies together may start (default 64); see docs/assignment.md. */
  maxApartments?: number;
  /** How objects admit unrelated calls while they await (default 'turn-based'; classes may override). */
  reentrancy?: Reentrancy;
  /** Retry policy for calls refused with retry-later (default: no retry). */
  retry?: RetryPolicy;
  /** Threads of the free pool (MTA) that run `free` objects' calls (default: the number of cores). */
  freePoolSize?: number;
  /** Transport between apartments: 'shared-memory' rings (default) or 'port' (MessagePort). */
  transport?: LinkKind;
}

/** Options of createApartment(). */
export interface ApartmentOptions {
  name?: string;
  resourceLimits?: ResourceLimits;
  /** Deadline of calls made from this apartment (ms; default: the runtime's). */
  defaultTimeoutMs?: number;
  /**
   * Follow call chains across awaits (default true). Turn it off in an apartment that hosts script
   * engines to be interrupted with interruptScript() where Node's AsyncLocalStorage uses async hooks
   * (Node 20 and 22; not 24): calls made there after an await then start a new logical call (see
   * docs/script-engine.md).
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
}

/** Options of one external creation. */
export interface CreateOptions {
  /** The assignment policy for this object instead of the runtime's. */
  assignment?: AssignmentSpec;
}

/** Events of the runtime. */
export type RuntimeEvents = {
  'apartment-created': (apartment: Apartment) => void;
  'apartment-closed': (apartment: Apartment) => void;
  'apartment-faulted': (apartment: Apartment, error: ApartmentFaultedError) => void;
  /** A faulted apartment with restart 'on-fault' was replaced; its objects were not resurrected. */
  'apartment-restarted': (faulted: Apartment, replacement: Apartment) => void;
  log: (entry: LogEntry) => void;
};

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

/** Runtime.start() options with their defaults applied and checked; immutable after start. */
export interface RuntimeSettings {
  readonly defaultTimeoutMs: number;
  readonly logger: Logger;
  readonly maxApartments: number;
  readonly assignment: AssignmentSpec;
  readonly freePoolSize: number;
  readonly reentrancy: Reentrancy;
  readonly retry: RetryPolicy | undefined;
  readonly transport: LinkKind;
}

/** Apply the defaults to Runtime.start()'s options; InvalidArgumentError names the bad one. */
export function resolveRuntimeOptions(options: RuntimeOptions): RuntimeSettings {
  const timeout = options.defaultTimeoutMs ?? 30_000;
  if (!(typeof timeout === 'number' && timeout > 0)) {
    throw new InvalidArgumentError(`[timeout] defaultTimeoutMs must be a positive number of milliseconds; got ${String(timeout)}`, { parameter: 'defaultTimeoutMs' });
  }
  const max = options.maxApartments ?? 64;
  if (!Number.isInteger(max) || max < 1) {
    throw new InvalidArgumentError(`[max-apartments] maxApartments must be a whole number ≥ 1; got ${String(max)}`, { parameter: 'maxApartments' });
  }
  const freePoolSize = options.freePoolSize ?? availableParallelism();
  if (!Number.isInteger(freePoolSize) || freePoolSize < 1) {
    throw new InvalidArgumentError(`[free-pool] freePoolSize must be a whole number ≥ 1; got ${String(options.freePoolSize)}`, { parameter: 'freePoolSize' });
  }
  return {
    defaultTimeoutMs: timeout,
    logger: options.logger ?? stderrLogger,
    maxApartments: max,
    assignment: options.assignment ?? 'single-thread',
    freePoolSize,
    reentrancy: checkReentrancy(options.reentrancy ?? 'turn-based'),
    retry: options.retry,
    transport: checkLinkKind(options.transport ?? 'shared-memory'),
  };
}
