// What the runtime hands a new apartment at start: the boot record every host passes on, and the
// worker thread host's own addition to it (workerData). Structured-cloneable.
import type { ClassDescriptor } from './class-table.js';
import type { RetryPolicy } from '../marshal/call-options.js';
import type { Reentrancy } from './admission.js';
import type { HooksRegistration } from './apartment-hooks.js';
import type { LinkKindSource } from './links.js';
import type { CallLimits } from './call-limits.js';

/** Start-up facts for an apartment, whatever hosts it; immutable after it starts. */
export interface ApartmentBoot {
  readonly id: number;
  readonly name: string;
  /** This apartment's end of its link to the main apartment, of kind `transport`. */
  readonly link: unknown;
  /** 'pool' for the free pool's threads. */
  readonly kind: 'worker' | 'pool';
  /** The free pool's apartment ids (pool threads only). */
  readonly pool: readonly number[];
  /** Follow calls across awaits (off in apartments whose scripts must be interruptible). */
  readonly asyncCausality: boolean;
  /** Shared with the main thread's interrupt service: which script runs here now. */
  readonly scriptGate: SharedArrayBuffer;
  /** The link kind this apartment's links use. */
  readonly transport: string;
  /** Link kinds to load before attaching any link (those not built into the runtime). */
  readonly linkKinds: readonly LinkKindSource[];
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
  /**
   * What features plugged in at the host's composition root hand this apartment before its hooks
   * attach, by feature name (structured-cloneable; read and checked by the apartment's own
   * composition root). Absent from boots that come from elsewhere.
   */
  readonly features?: Readonly<Record<string, unknown>>;
}

/** What a worker thread apartment starts from (its workerData). */
export interface WorkerBoot extends ApartmentBoot {
  /** This thread's awake flag in the spin gate, shared so the main thread can clear it if the thread dies awake. */
  readonly awakeFlag: SharedArrayBuffer;
  /** Random bytes for the thread's first unguessable ids (marshal/random-ids.ts), so it need not load node:crypto to start. */
  readonly entropy?: Uint8Array;
}
