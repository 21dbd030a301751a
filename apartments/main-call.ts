// Reaching a control service of the main apartment from whichever apartment this code runs in:
// through the channel from a worker, directly on the main thread itself.
import type { ControlClient, ControlServiceId } from './control-plane.js';
import { localApartment } from './local-context.js';

/** A typed client for `service` as the main apartment serves it. */
export function mainService<Api>(service: ControlServiceId<Api>): ControlClient<Api> {
  return localApartment().controlOf(0, service);
}

/** A typed client for `service` as apartment `peer` serves it. */
export function serviceOf<Api>(peer: number, service: ControlServiceId<Api>): ControlClient<Api> {
  return localApartment().controlOf(peer, service);
}

/**
 * Whether this apartment's link to the main apartment shares memory (always, on the main thread
 * itself): what features built on shared memory ask before they use it across that link.
 */
export function sharesMemoryWithMain(): boolean {
  const apartment = localApartment();
  return apartment.id === 0 || apartment.endpoint.linkTo(0)?.sharedMemory === true;
}
