// What an apartment reports about itself: its endpoint's counts plus its admission queues.
import type { EndpointStats } from '../marshal/endpoint.js';
import { currentCall } from './context.js';
import type { LocalApartment } from './local-apartment.js';

/** Counts for diagnostics, lifetime specs and load-based assignment. */
export interface ApartmentStats extends EndpointStats {
  /** Calls waiting for their turn on a busy object. */
  queuedCalls: number;
  /** Call chains running here, not counting the stats call itself. */
  runningCalls: number;
  /** Registered classes loaded here (a pool checkin forgets them). */
  loadedClasses: number;
}

/** Read an apartment's counts (from its own thread). */
export function apartmentStats(apartment: LocalApartment): ApartmentStats {
  return {
    ...apartment.endpoint.stats(),
    queuedCalls: apartment.admission.queuedCalls,
    runningCalls: apartment.admission.runningChains(currentCall()?.causality ?? -1),
    loadedClasses: apartment.loader.size,
  };
}
