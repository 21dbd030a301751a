// The threading-contract interface and the registry of contracts by name. A contract decides
// where an instance is created (placement, a pure function so it can be tested as a table) and
// how references to it are marshaled. The built-ins register through the same defineContract().
import { InvalidArgumentError } from '../errors.js';

/** What kind of apartment asks for the object. */
export type CreatorKind = 'main' | 'worker' | 'pool';

/**
 * How the object is being created: `in-process` is COM's CoCreateInstance (the contract × creator
 * matrix decides); `external` is CreateObject from a client (the assignment policy picks a worker
 * apartment for classes that accept one).
 */
export type CreationMode = 'in-process' | 'external';

/**
 * Where an instance goes: the creator's own apartment, the main one, one the assignment policy
 * picks, the free pool, a host apartment, or the worker apartment of a given name (started if none).
 */
export type Placement =
  | { readonly kind: 'creator' }
  | { readonly kind: 'named'; readonly name: string }
  | { readonly kind: 'main' }
  | { readonly kind: 'assigned' }
  | { readonly kind: 'free-pool' }
  | { readonly kind: 'host' };

/** The facts placement may depend on; nothing else (placement is pure). */
export interface PlacementRequest {
  readonly creator: CreatorKind;
  readonly mode: CreationMode;
  /** Whether the runtime has a main apartment (false only when a free-pool thread runs without one). */
  readonly hasMainApartment: boolean;
}

/** How references to instances cross apartments: proxies, or the object itself (free-threaded marshaler). */
export type MarshalRule = 'standard' | 'agile';

/** A threading contract: a name, a placement function and a marshaling rule. */
export interface Contract {
  readonly name: string;
  place(request: PlacementRequest): Placement;
  readonly marshal: MarshalRule;
}

const contracts = new Map<string, Contract>();

/** Register a contract by name; names are unique, and the built-ins cannot be replaced. */
export function defineContract(contract: Contract): Contract {
  if (typeof contract?.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(contract.name)) {
    throw new InvalidArgumentError(`[contract-name] a contract needs a lower-case name such as 'pinned'; got ${String(contract?.name)}`, { parameter: 'contract.name' });
  }
  if (typeof contract.place !== 'function') {
    throw new InvalidArgumentError(`[contract-place] contract '${contract.name}' needs a place(request) function`, { parameter: 'contract.place' });
  }
  if (contract.marshal !== 'standard' && contract.marshal !== 'agile') {
    throw new InvalidArgumentError(`[contract-marshal] contract '${contract.name}' needs marshal 'standard' or 'agile'`, { parameter: 'contract.marshal' });
  }
  if (contracts.has(contract.name)) {
    throw new InvalidArgumentError(`[contract-exists] a contract named '${contract.name}' is already defined; pick another name`, { parameter: 'contract.name' });
  }
  const frozen = Object.freeze({ ...contract });
  contracts.set(frozen.name, frozen);
  return frozen;
}

/** The contract registered under `name`, or an error listing the known names. */
export function getContract(name: string): Contract {
  const c = contracts.get(name);
  if (!c) {
    throw new InvalidArgumentError(`[unknown-contract] no threading contract named '${name}'; use one of ${[...contracts.keys()].join(', ')} or defineContract() it first`, { parameter: 'threading' });
  }
  return c;
}

/** Whether a contract of that name exists. */
export function hasContract(name: string): boolean {
  return contracts.has(name);
}
