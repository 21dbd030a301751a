// What the runtime hands a new worker apartment at start (workerData). Structured-cloneable.
import type { ClassDescriptor } from './class-table.js';
import type { RetryPolicy } from '../marshal/call-options.js';
import type { Reentrancy } from './admission.js';
import type { HooksRegistration } from './apartment-hooks.js';
import type { CallLimits } from './call-limits.js';
import type { LinkEnd, LinkKind } from './links.js';

/** Start-up facts for a worker apartment; immutable after the worker starts. */
export interface WorkerBoot {
  readonly id: number;
  readonly name: string;
  /** This apartment's end of its link to the main apartment. */
  readonly link: LinkEnd;
  /** 'pool' for the free pool's threads. */
  readonly kind: 'worker' | 'pool';
  /** The free pool's apartment ids (pool threads only). */
  readonly pool: readonly number[];
  /** Follow calls across awaits (off in apartments whose scripts must be interruptible). */
  readonly asyncCausality: boolean;
  /** Shared with the main thread's interrupt service: which script runs here now. */
  readonly scriptGate: SharedArrayBuffer;
  /** This thread's awake flag in the spin gate, shared so the main thread can clear it if the thread dies awake. */
  readonly awakeFlag: SharedArrayBuffer;
  /** The transport this apartment's links use. */
  readonly transport: LinkKind;
  readonly classes: readonly ClassDescriptor[];
  readonly defaultTimeoutMs: number;
  readonly reentrancy: Reentrancy;
  readonly retry: RetryPolicy | undefined;
  /** Queue limits and overrun policy of calls into this apartment. */
  readonly callLimits: CallLimits;
  /** Hooks modules registered so far: attached before the apartment says Ready. */
  readonly hooks: readonly HooksRegistration[];
  /** Human labels of the apartments that exist, for error messages. */
  readonly labels: Readonly<Record<number, string>>;
}
