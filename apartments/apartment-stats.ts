// What an apartment reports about itself: its endpoint's counts plus its admission queues.
import type { EndpointStats } from '../marshal/endpoint.js';

/** Counts for diagnostics, lifetime specs and load-based assignment. */
export interface ApartmentStats extends EndpointStats {
  /** Calls waiting for their turn on a busy object, or for a class their arguments need (and the calls their caller sent after them). */
  queuedCalls: number;
  /** Call chains running here, not counting the stats call itself. */
  runningCalls: number;
  /** Registered classes loaded here (a pool checkin forgets them). */
  loadedClasses: number;
  /** Calls still running after their callers gave up, whose objects' turns were handed on (docs/reentrancy.md). */
  wedgedCalls: number;
  /** Calls refused with retry-later because the queue they would join was full. */
  refusedCalls: number;
}
