// Starting an apartment: check its options, make its link to the main apartment, build the boot
// record it starts from, and start its host (from the factory the runtime chose). Every option is
// checked before a host exists, so a bad option never leaves a half-started apartment behind. The
// runtime decides ids, names, roles and what happens after start; this file owns only the start.
import type { ClassDescriptor } from './class-table.js';
import { InvalidArgumentError, shownValue } from '../marshal/errors.js';
import { checkReentrancy, checkRestart, DEFAULT_START_TIMEOUT_MS, type ApartmentOptions } from './apartment-options.js';
import { resolveCallLimits } from './call-limits.js';
import { checkFlag, checkTimeoutMs, type RetryPolicy } from '../marshal/call-options.js';
import type { Endpoint } from '../marshal/endpoint.js';
import type { Transport } from '../marshal/transport.js';
import type { Reentrancy } from './admission.js';
import { Apartment } from './apartment.js';
import type { ApartmentHostFactory } from './apartment-host.js';
import type { HooksRegistration } from './apartment-hooks.js';
import { linkKind, linkKindSources } from './links.js';
import type { ApartmentBoot } from './worker-boot.js';
import { SCRIPT_GATE_BYTES } from './script-gate.js';
import { resourceLimitsProblem } from './resource-limits.js';

/** Everything one apartment's start needs from the runtime. */
export interface LaunchRequest {
  readonly id: number;
  /** Makes the apartment's host (the runtime's choice: worker threads today). */
  readonly host: ApartmentHostFactory;
  readonly role: 'worker' | 'pool';
  /** The free pool's apartment ids (pool threads only). */
  readonly pool: readonly number[];
  readonly options: ApartmentOptions;
  /** Where the host runs it when not on a thread of this process, for its label: "on node 'b'". */
  readonly place?: string;
  /** The runtime's settings, used where the options leave something out. */
  readonly defaults: { transport: string; timeoutMs: number; reentrancy: Reentrancy; retry: RetryPolicy | undefined };
  readonly classes: readonly ClassDescriptor[];
  /** Labels of the apartments that exist, for the new apartment's error messages. */
  readonly labels: Record<number, string>;
  readonly hooks: readonly HooksRegistration[];
  /** The main apartment's endpoint, which the new apartment's proxy talks through. */
  readonly endpoint: Endpoint;
  readonly onGone: (apartment: Apartment, reason: Error) => void;
  /** What features hand the apartment at boot (ApartmentBoot.features), given what its link can carry. */
  readonly features?: (apartment: { readonly name: string; readonly sharedMemory: boolean }) => Readonly<Record<string, unknown>>;
}

/** A spawned apartment (not yet ready), this side's transport to it, and its checked idle timeout. */
export interface Launched {
  readonly apartment: Apartment;
  readonly near: Transport;
  readonly idleTimeoutMs: number | undefined;
}

/** Check the options, then start the apartment's host. Throws InvalidArgumentError before starting. */
export function launchApartment(request: LaunchRequest): Launched {
  const { id, options, defaults } = request;
  const name = options.name ?? `apartment-${id}`;
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError('[apartment-name] an apartment name must be a non-empty string', { parameter: 'name' });
  }
  const kind = linkKind(options.transport ?? defaults.transport);
  const timeout = checkTimeoutMs(options.defaultTimeoutMs ?? defaults.timeoutMs, 'defaultTimeoutMs')!;
  const idle = options.idleTimeoutMs;
  if (idle !== undefined && !(typeof idle === 'number' && idle >= 0)) {
    throw new InvalidArgumentError(`[idle-timeout] idleTimeoutMs must be a number of milliseconds ≥ 0; got ${shownValue(idle)}`, { parameter: 'idleTimeoutMs' });
  }
  const startTimeout = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  if (!(typeof startTimeout === 'number' && startTimeout > 0 && startTimeout <= 2 ** 31 - 1)) {
    throw new InvalidArgumentError(`[start-timeout] startTimeoutMs must be a positive number of milliseconds (at most 2^31 - 1); got ${shownValue(startTimeout)}`, { parameter: 'startTimeoutMs' });
  }
  const limits = resourceLimitsProblem(options.resourceLimits);
  if (limits) throw new InvalidArgumentError(`[resource-limits] ${limits}`, { parameter: 'resourceLimits' });
  const reentrancy = checkReentrancy(options.reentrancy ?? defaults.reentrancy);
  checkRestart(options.restart, options.maxRestarts);
  const callLimits = resolveCallLimits(options.callLimits);
  const asyncCausality = checkFlag(options.asyncCausality, 'asyncCausality', 'async-causality') ?? true;
  const scriptGate = new SharedArrayBuffer(SCRIPT_GATE_BYTES);
  const label = `apartment '${name}' (${id})${request.place ? ` ${request.place}` : ''}`;
  const link = kind.create();
  const boot: ApartmentBoot = {
    id, name, kind: request.role, pool: request.pool, scriptGate, asyncCausality, link: link.far, transport: kind.name, linkKinds: linkKindSources(),
    classes: request.classes, defaultTimeoutMs: timeout, labels: { ...request.labels, [id]: label }, reentrancy, retry: defaults.retry, hooks: request.hooks, callLimits,
    features: request.features?.({ name, sharedMemory: kind.sharedMemory }) ?? {},
  };
  const host = request.host({ boot, transfer: link.transfer, resourceLimits: options.resourceLimits });
  const apartment = new Apartment(id, name, label, kind, host, request.endpoint, request.onGone, scriptGate, asyncCausality);
  try {
    host.start();
  } catch (err) {
    link.near.close();
    throw err;
  }
  apartment.startDeadline(startTimeout);
  return { apartment, near: link.near, idleTimeoutMs: idle };
}
