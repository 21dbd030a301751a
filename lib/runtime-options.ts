// The options and events of the runtime facade, and their validation: what a host passes to
// Runtime.start(), createApartment() and createObjectWith(), and what the runtime emits.
import { availableParallelism } from 'node:os';
import type { Reentrancy } from '../apartments/admission.js';
import type { Apartment } from '../apartments/apartment.js';
import type { AssignmentSpec } from '../apartments/assignment.js';
import { linkKind } from '../apartments/links.js';
import { checkFlag, checkOptionsObject, checkRetryPolicy, checkTimeoutMs, type RetryPolicy } from '../marshal/call-options.js';
import { type ApartmentFaultedError, InvalidArgumentError, shownValue } from '../marshal/errors.js';
import { checkOptionKeys, optionKeys } from '../marshal/option-keys.js';
import { MAX_POOL_SIZE } from '../apartments/apartment-pool.js';
import type { CreateWithOptions } from '../apartments/assignment-names.js';
import { stderrLogger, type LogEntry, type Logger } from '../apartments/logger.js';
import { checkReentrancy, type ApartmentOptions as EngineApartmentOptions } from '../apartments/apartment-options.js';
import type { NodeOptions } from './cluster/node-options.js';
import type { TraceEvents } from './trace/runtime-trace.js';
import { TRACE_CAPACITY_MAX, TRACE_OPTION_KEYS, type TraceOptions } from './trace/trace-recorder.js';

/** Options of createApartment(). */
export interface ApartmentOptions extends EngineApartmentOptions {
  /** Trace this apartment (default: whether the runtime traces); see docs/tracing.md. */
  trace?: boolean;
  /** Run the apartment in the child process of this name instead of a thread (docs/processes.md). */
  process?: string;
  /** How a process apartment's host finds a hung process (default: a ping every second, hung after 10 unanswered). */
  heartbeat?: { periodMs?: number; misses?: number };
  /** Run the apartment on this node of the cluster (the runtime must be a node: docs/cluster.md). */
  node?: string;
}
/** The keys createApartment() takes (the engine's and the host's); any other is refused. */
export const APARTMENT_OPTION_KEYS = optionKeys<ApartmentOptions>({
  name: true, resourceLimits: true, defaultTimeoutMs: true, asyncCausality: true, transport: true, reentrancy: true, restart: true,
  maxRestarts: true, idleTimeoutMs: true, callLimits: true, startTimeoutMs: true, trace: true, process: true, heartbeat: true, node: true,
});

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
  /** The link kind between apartments: 'shared-memory' rings (default), 'port' (MessagePorts), or another registered kind. */
  transport?: string;
  /** Record what every apartment does (off by default, and free when off); see docs/tracing.md. */
  trace?: boolean | TraceOptions;
  /** Publish calls and object lifecycle on node:diagnostics_channel in every thread (default off). */
  diagnostics?: boolean;
  /**
   * Carry OpenTelemetry's trace context with every call (needs `@opentelemetry/api`); default: on
   * when this thread has registered an OpenTelemetry SDK before start. See docs/tracing.md.
   */
  openTelemetry?: boolean;
  /** Join a cluster of runtimes over NATS as this node (docs/cluster.md). */
  node?: NodeOptions;
}
/** The keys Runtime.start() takes; any other is refused. */
const RUNTIME_OPTION_KEYS = optionKeys<RuntimeOptions>({
  defaultTimeoutMs: true, logger: true, assignment: true, maxApartments: true, reentrancy: true, retry: true, freePoolSize: true,
  transport: true, trace: true, diagnostics: true, openTelemetry: true, node: true,
});


/** Options of one external creation (from any apartment the keys of CreateWithOptions, checked there). */
export interface CreateOptions extends CreateWithOptions {
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
} & TraceEvents;


/** Runtime.start() options with their defaults applied and checked; immutable after start. */
export interface RuntimeSettings {
  readonly defaultTimeoutMs: number;
  readonly logger: Logger;
  readonly maxApartments: number;
  readonly assignment: AssignmentSpec;
  readonly freePoolSize: number;
  readonly reentrancy: Reentrancy;
  readonly retry: RetryPolicy | undefined;
  readonly transport: string;
}

/** Apply the defaults to Runtime.start()'s options; InvalidArgumentError names the bad one. */
export function resolveRuntimeOptions(options: RuntimeOptions): RuntimeSettings {
  checkOptionsObject(options, 'Runtime.start()', '{ defaultTimeoutMs: 30_000 }', 'runtime-options', RUNTIME_OPTION_KEYS);
  const timeout = checkTimeoutMs(options.defaultTimeoutMs ?? 30_000, 'defaultTimeoutMs')!;
  if (options.logger !== undefined && typeof options.logger !== 'function') {
    throw new InvalidArgumentError(`[logger] logger must be a function taking each log entry; got ${typeof options.logger}`, { parameter: 'logger' });
  }
  const max = options.maxApartments ?? 64;
  if (!Number.isInteger(max) || max < 1) {
    throw new InvalidArgumentError(`[max-apartments] maxApartments must be a whole number ≥ 1; got ${shownValue(max)}`, { parameter: 'maxApartments' });
  }
  checkFlag(options.openTelemetry, 'openTelemetry', 'open-telemetry');
  checkFlag(options.diagnostics, 'diagnostics', 'diagnostics');
  // Anything but undefined and false turned tracing on: null, 0 and 'false' too.
  if (options.trace !== undefined && typeof options.trace !== 'boolean' && (options.trace === null || typeof options.trace !== 'object')) {
    throw new InvalidArgumentError(`[trace] trace must be true, false or { capacity }, or left out; got ${options.trace === null ? 'null' : typeof options.trace}`, { parameter: 'trace' });
  }
  if (typeof options.trace === 'object') checkOptionKeys(options.trace, TRACE_OPTION_KEYS, 'Runtime.start({ trace })', 'trace');
  const capacity = typeof options.trace === 'object' && options.trace !== null ? options.trace.capacity : undefined;
  if (capacity !== undefined && !(Number.isInteger(capacity) && capacity >= 1 && capacity <= TRACE_CAPACITY_MAX)) {
    throw new InvalidArgumentError(`[trace] trace.capacity must be a whole number of events from 1 to ${TRACE_CAPACITY_MAX}; got ${shownValue(capacity)} (leave it out for the default)`, { parameter: 'trace' });
  }
  const freePoolSize = options.freePoolSize ?? availableParallelism();
  // Bounded as any pool is: each is a thread, all started together on first use.
  if (!(Number.isInteger(freePoolSize) && freePoolSize >= 1 && freePoolSize <= MAX_POOL_SIZE)) {
    throw new InvalidArgumentError(`[free-pool] freePoolSize must be a whole number from 1 to ${MAX_POOL_SIZE} (each is a thread of its own); got ${shownValue(options.freePoolSize)}`, { parameter: 'freePoolSize' });
  }
  return {
    defaultTimeoutMs: timeout,
    logger: options.logger ?? stderrLogger,
    maxApartments: max,
    assignment: options.assignment ?? 'single-thread',
    freePoolSize,
    reentrancy: checkReentrancy(options.reentrancy ?? 'turn-based'),
    retry: checkRetryPolicy(options.retry, 'retry'),
    transport: linkKind(options.transport ?? 'shared-memory').name,
  };
}
