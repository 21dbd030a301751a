// The built-in contracts, placed exactly as COM's ThreadingModel × creator matrix (spec/lib/contracts/matrix.spec.ts).
// They use the same interface as custom contracts: the runtime reads their marshal rule,
// residence and admit(), never their names.
import { defineContract, type AdmitRequest, type AdmitVerdict, type Contract, type PlacementRequest, type Placement } from '../../apartments/contract.js';

const here: Placement = Object.freeze({ kind: 'creator' });
const main: Placement = Object.freeze({ kind: 'main' });
const assigned: Placement = Object.freeze({ kind: 'assigned' });
const host: Placement = Object.freeze({ kind: 'host' });
const freePool: Placement = Object.freeze({ kind: 'free-pool' });

/** `single`: every instance lives in the main apartment (COM's legacy "no ThreadingModel"). */
export const single: Contract = defineContract({
  name: 'single',
  marshal: 'standard',
  place(r: PlacementRequest): Placement {
    if (r.creator === 'main') return here;
    return r.hasMainApartment ? main : host;
  },
});

/** `apartment`: lives in the apartment that creates it; external creation goes to the assignment policy. */
export const apartment: Contract = defineContract({
  name: 'apartment',
  marshal: 'standard',
  place(r: PlacementRequest): Placement {
    if (r.mode === 'external') return assigned;
    return r.creator === 'pool' ? host : here;
  },
});

/**
 * `free`: state in shared memory; created in the free pool (a pool thread creating one keeps it);
 * references travel as the shared state, not as proxies: pool threads get direct views, other
 * apartments pool handles, every apartment a direct view for `static agile = true` classes
 * (see apartments/free-objects.ts).
 */
export const free: Contract = defineContract({
  name: 'free',
  marshal: 'free-pool',
  place(r: PlacementRequest): Placement {
    return r.creator === 'pool' ? here : freePool;
  },
});

/**
 * `rental`: registered in the main apartment; the object itself moves into whichever apartment
 * holds its lease (lib/rental.ts). The holder calls it directly, so any call that reaches the object
 * across apartments comes from a non-holder (someone was handed `lease.value`): refused.
 */
export const rental: Contract = defineContract({
  name: 'rental',
  marshal: 'standard',
  residence: 'leased',
  place(): Placement {
    return main;
  },
  admit(call: AdmitRequest): AdmitVerdict {
    return `a rental ${call.className} is used only by the apartment holding its lease, and that is not the caller; lease it with lease(handle) (optionally { wait: true }) and use the reference the lease gives`;
  },
});

/**
 * `script-engine`: placed like `both` (COM registers script engines `Both`): an uninitialized engine
 * is made where its creator runs, a free-pool thread included; external creation as `apartment`.
 * The engine itself enforces the rest — free-threaded while uninitialized or closed, bound to the
 * apartment that set its site until closed or reset.
 */
export const scriptEngine: Contract = defineContract({
  name: 'script-engine',
  marshal: 'standard',
  place(r: PlacementRequest): Placement {
    return r.mode === 'external' ? assigned : here;
  },
});

/** `both`: lives with its creator whatever the creator's kind; external creation as `apartment`. */
export const both: Contract = defineContract({
  name: 'both',
  marshal: 'standard',
  place(r: PlacementRequest): Placement {
    return r.mode === 'external' ? assigned : here;
  },
});
