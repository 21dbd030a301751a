// The runtime's own entry points into a script realm. A host function a script can reach (the slot
// a run is entered through, the settlers handed to a thenable's `then`) would hand it the host's
// Function through `constructor`, and with it `process`. So each reaches the script sealed: a
// function of the script's realm that closes over the host function, which the script cannot read.
import vm from 'node:vm';

type Sealer = (host: (arg: unknown) => unknown) => (arg: unknown) => unknown;

/** The global slots the runtime's entry scripts call through (`__invocation()`, `__exit()`). */
const ENTRY_SLOTS = ['__invocation', '__exit'] as const;
type EntrySlot = (typeof ENTRY_SLOTS)[number];

// Strict, and looks up nothing in the realm: what the script does to its globals cannot change it.
const SEALER_SOURCE = '(function (host) { "use strict"; return function (arg) { return host(arg); }; })';
const sealers = new WeakMap<vm.Context, Sealer>();

/**
 * Ready a fresh realm, before any script code runs in it: its entry slots are fixed data properties
 * (a script cannot turn one into an accessor that would run its code when the runtime fills it).
 */
export function prepareRealm(ctx: vm.Context): void {
  for (const slot of ENTRY_SLOTS) Object.defineProperty(ctx, slot, { value: undefined, writable: true, enumerable: false, configurable: false });
  sealers.set(ctx, vm.runInContext(SEALER_SOURCE, ctx) as Sealer);
}

/** `host` as a function of `ctx`'s realm; its result and what it throws pass through unchanged. */
export function sealed(ctx: vm.Context, host: (arg: unknown) => unknown): (arg: unknown) => unknown {
  const sealer = sealers.get(ctx);
  if (sealer === undefined) throw new Error('[realm] the script realm was not prepared; call prepareRealm when creating it');
  return sealer(host);
}

/**
 * Run `entry` (a script that calls slot `slot`) with the slot holding `host`, sealed and good for one
 * call: a script that keeps the slot's function, or calls it while `host` runs, gets undefined.
 */
export function throughSlot<T>(ctx: vm.Context, slot: EntrySlot, host: () => unknown, enter: () => unknown): T {
  let used = false;
  (ctx as Record<string, unknown>)[slot] = sealed(ctx, () => {
    if (used) return undefined;
    used = true;
    return host();
  });
  try {
    return enter() as T;
  } finally {
    (ctx as Record<string, unknown>)[slot] = undefined;
  }
}
