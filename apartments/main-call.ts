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
