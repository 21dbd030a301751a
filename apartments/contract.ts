// The threading-contract interface and the registry of contracts by name. A contract decides
// where an instance is created (placement, a pure function so it can be tested as a table), how
// references to it cross apartments (the marshaling rule), which incoming calls it admits, and
// whether instances stay put or are leased. The built-ins register through the same
// defineContract(), and the runtime reads only these properties, never a contract's name.
import { InvalidArgumentError, shownValue } from '../marshal/errors.js';

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

/**
 * How references to instances cross apartments:
 * - `standard`: the receiver gets a proxy; calls run in the object's apartment (COM's standard marshaling).
 * - `free-pool`: the instance travels as its shared state (`toShared()` / `static fromShared()`);
 *   free-pool threads get a direct view, other apartments a handle whose calls run on a pool thread.
 *   A class with `static agile = true` is treated as `agile`. For contracts that place in the free pool.
 * - `agile`: the instance travels as its shared state and every receiving apartment gets a direct
 *   view, called on the caller's thread with no hop (COM's free-threaded marshaler).
 */
export type MarshalRule = 'standard' | 'free-pool' | 'agile';

/**
 * Where instances reside: `fixed` (where placement put them) or `leased` (the creator gets a lease
 * handle registered in the main apartment, and the object moves into whichever apartment holds its
 * lease; see lib/rental.ts). A leased contract must place in the main apartment and marshal `standard`.
 */
export type Residence = 'fixed' | 'leased';

/** The facts admit() sees about one incoming cross-apartment call. */
export interface AdmitRequest {
  /** The registered name of the object's class. */
  readonly className: string;
  readonly method: string;
  /** The apartment the call comes from. */
  readonly callerApartment: number;
  /** The apartment the object is in, where admit() runs. */
  readonly apartment: number;
}

/**
 * admit()'s answer: `true` admits the call; `false` refuses it; a string refuses it and is the
 * reason the caller reads (say what to do instead).
 */
export type AdmitVerdict = boolean | string;

/** A threading contract. */
export interface Contract {
  readonly name: string;
  place(request: PlacementRequest): Placement;
  readonly marshal: MarshalRule;
  /**
   * Consulted in the object's apartment before each incoming cross-apartment call to an instance
   * starts (proxy calls, and free-pool handle calls). Direct calls (same apartment, agile views) are
   * not admitted: they never cross. A refusal fails the call with ContractViolationError.
   */
  admit?(call: AdmitRequest): AdmitVerdict;
  /** Default `fixed`. */
  readonly residence?: Residence;
}

const FIELDS = new Set(['name', 'place', 'marshal', 'admit', 'residence']);
const MARSHAL_RULES: readonly string[] = ['standard', 'free-pool', 'agile'];
const contracts = new Map<string, Contract>();

/** Register a contract by name; names are unique, and the built-ins cannot be replaced. */
export function defineContract(contract: Contract): Contract {
  if (typeof contract?.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(contract.name)) {
    throw new InvalidArgumentError(`[contract-name] a contract needs a lower-case name such as 'pinned'; got ${shownValue(contract?.name)}`, { parameter: 'contract.name' });
  }
  const name = contract.name;
  const unknown = Object.keys(contract).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`[contract-field] contract '${name}' has unknown field(s) ${unknown.join(', ')}; a contract has ${[...FIELDS].join(', ')}`, { parameter: `contract.${unknown[0]}` });
  }
  if (typeof contract.place !== 'function') {
    throw new InvalidArgumentError(`[contract-place] contract '${name}' needs a place(request) function`, { parameter: 'contract.place' });
  }
  if (!MARSHAL_RULES.includes(contract.marshal)) {
    throw new InvalidArgumentError(`[contract-marshal] contract '${name}' needs marshal ${MARSHAL_RULES.map((r) => `'${r}'`).join(', ')}; got ${shownValue(contract.marshal)}`, { parameter: 'contract.marshal' });
  }
  if (contract.admit !== undefined && typeof contract.admit !== 'function') {
    throw new InvalidArgumentError(`[contract-admit] contract '${name}': admit must be a function (call) => true | false | reason, or left out`, { parameter: 'contract.admit' });
  }
  if (contract.admit !== undefined && contract.marshal === 'agile') {
    throw new InvalidArgumentError(`[contract-admit] contract '${name}' marshals 'agile': its objects are called directly on the caller's thread, so admit would never run; drop admit or marshal 'standard'`, { parameter: 'contract.admit' });
  }
  if (contract.residence !== undefined && contract.residence !== 'fixed' && contract.residence !== 'leased') {
    throw new InvalidArgumentError(`[contract-residence] contract '${name}' needs residence 'fixed' or 'leased'; got ${shownValue(contract.residence)}`, { parameter: 'contract.residence' });
  }
  if (contract.residence === 'leased' && contract.marshal !== 'standard') {
    throw new InvalidArgumentError(`[contract-residence] contract '${name}' is leased, so its lease handles marshal 'standard'; got marshal '${contract.marshal}'`, { parameter: 'contract.marshal' });
  }
  if (contracts.has(name)) {
    throw new InvalidArgumentError(`[contract-exists] a contract named '${name}' is already defined; pick another name`, { parameter: 'contract.name' });
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
