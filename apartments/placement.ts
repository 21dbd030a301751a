// Interpreting a contract's placement: the one place that turns "where should this object live"
// into an apartment id. Placements every apartment can decide alone (its own, the main one) are
// answered here; the rest need the runtime's apartments and policies.
import { ContractViolationError } from '../marshal/errors.js';
import type { Placement } from './contract.js';

/** The apartments and policies only the runtime has (main apartment only). */
export interface PlacementServices {
  /** The apartment the assignment policy picks. */
  assigned(): Promise<number>;
  /** A thread of the free pool. */
  freePool(): Promise<number>;
  /** The host apartment, started on first use. */
  host(): Promise<number>;
  /** The apartment called `name`, started on first use. */
  named(name: string): Promise<number>;
}

/** The apartment for `placement` when `requester` can decide it without the runtime, else undefined. */
export function placeLocally(placement: Placement, requester: number): number | undefined {
  if (placement.kind === 'creator') return requester;
  if (placement.kind === 'main') return 0;
  return undefined;
}

/** The apartment an object placed by `placement` for `requester` lives in. */
export async function placeWith(placement: Placement, requester: number, services: PlacementServices): Promise<number> {
  switch (placement.kind) {
    case 'creator':
    case 'main':
      return placeLocally(placement, requester)!;
    case 'assigned':
      return services.assigned();
    case 'free-pool':
      return services.freePool();
    case 'host':
      return services.host();
    case 'named':
      return services.named(placement.name);
    default: {
      const unreachable: never = placement;
      throw new ContractViolationError(`[placement] unknown placement ${JSON.stringify(unreachable)}`);
    }
  }
}
