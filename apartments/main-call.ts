// Reaching a control service of the main apartment from whichever apartment this code runs in:
// through the channel from a worker, directly on the main thread itself.
import { callOptions, type CallOptions } from '../marshal/call-options.js';
import { CONTROL_OID } from '../marshal/protocol.js';
import { wireName, type ControlClient, type ControlServiceId } from './control-plane.js';
import { localApartment } from './local-context.js';

/** A typed client for `service` as the main apartment serves it. */
export function mainService<Api>(service: ControlServiceId<Api>): ControlClient<Api> {
  return localApartment().controlOf(0, service);
}

/** A typed client for `service` as apartment `peer` serves it. */
export function serviceOf<Api>(peer: number, service: ControlServiceId<Api>): ControlClient<Api> {
  return localApartment().controlOf(peer, service);
}

type Args<F> = F extends (...args: infer A) => unknown ? A : never;
type Answer<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

/**
 * mainService(service)[method](...args) with per-call options (a typed client takes none). On the
 * main thread the call is local: it has no deadline to set, and `options` are not used.
 */
export function callMain<Api, K extends keyof Api & string>(service: ControlServiceId<Api>, method: K, args: Args<Api[K]>, options: CallOptions): Promise<Answer<Api[K]>> {
  const apartment = localApartment();
  if (apartment.id === 0) return (mainService(service)[method] as unknown as (...a: unknown[]) => Promise<Answer<Api[K]>>)(...args);
  return apartment.endpoint.call(0, CONTROL_OID, wireName(service, method), args, options) as Promise<Answer<Api[K]>>;
}

/**
 * Options of a call that waits in another apartment for up to `waitMs` (a rental lease, a named
 * lock). Its deadline is the wait plus this apartment's usual call deadline, so the wait's own time
 * limit is what ends it (Infinity: none) and the usual deadline still covers the answer's way back.
 * Under the usual deadline alone, a worker asked to wait 2 minutes, or for ever, gave up at 30 s.
 */
export function waitingCallOptions(waitMs: number, signal?: AbortSignal): CallOptions {
  return callOptions({ timeoutMs: waitMs + localApartment().defaultTimeoutMs, signal });
}

/**
 * Whether this apartment's link to the main apartment shares memory (always, on the main thread
 * itself): what features built on shared memory ask before they use it across that link.
 */
export function sharesMemoryWithMain(): boolean {
  const apartment = localApartment();
  return apartment.id === 0 || apartment.endpoint.linkTo(0)?.sharedMemory === true;
}
