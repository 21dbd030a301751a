// The runtime's own entry points into a script realm. A host function a script can reach (the slot
// a run is entered through, the settlers handed to a thenable's `then`, the traps of the membrane's
// proxies) would hand it the host's Function through `constructor`, and with it `process`. So each
// reaches the script guarded: a function of the script's realm that closes over the host function,
// which the script cannot read, and lets nothing of the host's realm be thrown at the script. That
// last part is not about the host code's own errors (the membrane wraps those): V8 makes the
// RangeError of a stack that runs out in the realm of the function being entered, so a script that
// nearly fills the stack and then calls into host code would catch an error of the host's realm.
import vm from 'node:vm';

/** The guarded doors of one realm, made in that realm before any script code runs there. */
export interface RealmGuard {
  /** `host` as a function of the realm; its result passes unchanged, and what it throws is passed. */
  seal(host: (arg: unknown) => unknown): (arg: unknown) => unknown;
  /** A proxy handler of the realm whose traps call `handler`'s, each guarded as seal() is. */
  guardHandler<T extends object>(handler: ProxyHandler<T>): ProxyHandler<T>;
  /**
   * A proxy of `target` made in the realm, with `handler` (a guarded one), trusted: thrown at the
   * script, it passes as it is. Made in the realm because V8 makes the RangeError of a stack that runs
   * out while reaching a proxy's trap in the realm the proxy was made in.
   */
  proxy<T extends object>(target: T, handler: ProxyHandler<T>): T;
  /** A new empty, extensible object of the realm for a proxy's target: callable and constructible when `callable`. */
  shadow(callable: boolean): object;
}

/** The global slots the runtime's entry scripts call through (`__invocation()`, `__exit()`). */
const ENTRY_SLOTS = ['__invocation', '__exit'] as const;
type EntrySlot = (typeof ENTRY_SLOTS)[number];

// Strict, and after it ran looks up nothing the script can change: every builtin it uses is read
// here, before any script code runs in the realm. A thrown value passes when it is trusted (a
// membrane proxy) or an object of this realm (its prototype chain reaches this realm's
// Object.prototype; a trusted value is tested first, so no trap runs); anything else becomes a
// RangeError of this realm. A host error wrapped by the membrane is trusted, so what reaches the
// script is what it was, less the host's realm.
const GUARD_SOURCE = `(function () {
  "use strict";
  const apply = Reflect.apply, create = Object.create, keys = Object.keys, bind = Function.prototype.bind, RealmObject = Object, RealmRangeError = RangeError, RealmProxy = Proxy;
  const hasInstance = Function.prototype[Symbol.hasInstance];
  const trusted = new WeakSet(), isTrusted = WeakSet.prototype.has, addTrusted = WeakSet.prototype.add;
  function pass(thrown) {
    if ((typeof thrown === "object" && thrown !== null) || typeof thrown === "function") {
      if (!apply(isTrusted, trusted, [thrown]) && !apply(hasInstance, RealmObject, [thrown])) {
        return new RealmRangeError("[script-realm] host code the script called failed (the stack ran out on the way in, or something of the host's realm was thrown); the script sees this error instead");
      }
    }
    return thrown;
  }
  function seal(host) {
    return function (arg) {
      try { return host(arg); } catch (thrown) { throw pass(thrown); }
    };
  }
  function guardHandler(handler) {
    const out = create(null), traps = keys(handler);
    for (let i = 0; i < traps.length; i++) {
      const trap = handler[traps[i]];
      out[traps[i]] = function (...args) {
        try { return apply(trap, undefined, args); } catch (thrown) { throw pass(thrown); }
      };
    }
    return out;
  }
  function proxy(target, handler) {
    const made = new RealmProxy(target, handler);
    apply(addTrusted, trusted, [made]);
    return made;
  }
  function shadow(callable) {
    // A bound function: callable and constructible, with no own prototype property to pin.
    return callable ? apply(bind, function () {}, [null]) : create(null);
  }
  return { seal, guardHandler, proxy, shadow };
})()`;
const guards = new WeakMap<vm.Context, RealmGuard>();

/**
 * Ready a fresh realm, before any script code runs in it: its entry slots are fixed data properties
 * (a script cannot turn one into an accessor that would run its code when the runtime fills it),
 * and its guard is made.
 */
export function prepareRealm(ctx: vm.Context): RealmGuard {
  for (const slot of ENTRY_SLOTS) Object.defineProperty(ctx, slot, { value: undefined, writable: true, enumerable: false, configurable: false });
  const guard = vm.runInContext(GUARD_SOURCE, ctx) as RealmGuard;
  guards.set(ctx, guard);
  return guard;
}

/** `host` as a function of `ctx`'s realm; its result passes unchanged, what it throws without the host's realm. */
export function sealed(ctx: vm.Context, host: (arg: unknown) => unknown): (arg: unknown) => unknown {
  const guard = guards.get(ctx);
  if (guard === undefined) throw new Error('[realm] the script realm was not prepared; call prepareRealm when creating it');
  return guard.seal(host);
}

/**
 * Run `entry` (a script that calls slot `slot`) with the slot holding `host`, sealed and good for one
 * call: a script that keeps the slot's function, or calls it while `host` runs, gets undefined. What
 * `host` throws reaches the caller as itself: the entry scripts are the runtime's own, so no script
 * code stands between the slot and `enter`, and the seal would otherwise turn the runtime's own
 * errors (a refused result) into errors of the script's realm.
 */
export function throughSlot<T>(ctx: vm.Context, slot: EntrySlot, host: () => unknown, enter: () => unknown): T {
  let used = false;
  let failure: { readonly error: unknown } | undefined;
  (ctx as Record<string, unknown>)[slot] = sealed(ctx, () => {
    if (used) return undefined;
    used = true;
    try {
      return host();
    } catch (error) {
      failure = { error };
      throw error;
    }
  });
  try {
    return enter() as T;
  } catch (thrown) {
    throw failure === undefined ? thrown : failure.error;
  } finally {
    (ctx as Record<string, unknown>)[slot] = undefined;
  }
}
