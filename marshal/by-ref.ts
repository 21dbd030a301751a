// Marks that decide how a value crosses an apartment boundary: by reference (an ObjRef that
// arrives as a proxy) or moved (transferred buffers). Everything else is copied by structured clone.

import { InvalidArgumentError } from './errors.js';
import type { Transferable } from './transport.js';

/**
 * An object with this method travels by value under a named unmarshaler: the method returns the
 * unmarshaler's key and a cloneable payload, and the receiving apartment rebuilds the object from
 * them (used by free-threaded objects and free-pool handles).
 */
export const CUSTOM_MARSHAL: unique symbol = Symbol('apartment-runtime.custom-marshal');

/** What CUSTOM_MARSHAL returns. */
export interface CustomMarshaled {
  key: string;
  payload: unknown;
  /**
   * The value works only where memory is shared with the sender (a mutex, a counter, a free
   * object's state): sending it over a link whose sides share no memory fails with a MarshalError.
   */
  sharedMemory?: boolean;
}

// The type-level mark of a value that travels by reference, so Remote<T> can type what arrives
// (a proxy) instead of the object itself. A type brand only: it never exists at run time.
declare const BY_REFERENCE: unique symbol;
/** The key of the by-reference brand (for Remote<T>; users write Ref<T> or extend ByReference). */
export type ByReferenceKey = typeof BY_REFERENCE;

/**
 * A `T` that travels by reference: annotate a method's result or parameter as `Ref<Child>` and a
 * caller's Remote<T> types it as `Remote<Child>` (a proxy whose methods return promises). A plain
 * `Child` is assignable to it; byRef() returns one.
 */
export type Ref<T extends object> = T & { readonly [BY_REFERENCE]?: true };

/**
 * Extend it to say that every instance of a class travels by reference, both at run time (like a
 * registered class) and in Remote<T>'s types.
 */
export abstract class ByReference {
  declare readonly [BY_REFERENCE]?: true;
}

/** Objects explicitly marked with byRef(). Weak: marking never keeps an object alive. */
const markedObjects = new WeakSet<object>();
/** Whether byRef() was ever called: until then the codec's walk skips a lookup per object. */
let anyMarked = false;
/** Prototypes whose instances always travel by reference (registered classes). */
const byRefPrototypes = new WeakSet<object>();
/** Values passed to transfer(), with what to move when they are sent. Consumed on send. */
const transferLists = new WeakMap<object, readonly Transferable[]>();
/** Lists registered and not yet taken. While none is, the codec's walk skips a lookup per object. */
let pendingTransfers = 0;
/** Counts out the list of a value collected without being sent (its WeakMap entry goes unseen). */
const unsent = new FinalizationRegistry<undefined>(() => {
  pendingTransfers--;
});
/**
 * Values given a list this turn, held until its microtasks run. Almost every value is sent in the
 * turn it is marked (`obj.method(transfer(buf, [buf]))`), so only one still unsent then is
 * registered with `unsent`: a registration and its removal cost about 0.5 µs a call on each side.
 */
let markedThisTurn: object[] = [];
const registerUnsent = (): void => {
  const marked = markedThisTurn;
  markedThisTurn = [];
  // A value sent and marked again in the turn is here twice: registered twice, it would be counted
  // out twice when collected, and a count below zero made the codec skip every later list.
  for (const value of marked.length === 1 ? marked : new Set(marked)) if (transferLists.has(value)) unsent.register(value, undefined, value);
};

/** Mark `obj` so it crosses apartments by reference: the receiver gets a proxy. Returns `obj`. */
export function byRef<T extends object>(obj: T): Ref<T> {
  if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function')) {
    throw new InvalidArgumentError(`[byref] byRef() marks an object or function to pass by reference, not a ${obj === null ? 'null' : typeof obj}; a primitive is copied as it is`, { parameter: 'obj' });
  }
  markedObjects.add(obj);
  anyMarked = true;
  return obj;
}

/** Make every instance of `cls` travel by reference (done for each registered class). */
export function markClassByRef(cls: abstract new (...args: never[]) => unknown): void {
  byRefPrototypes.add(cls.prototype as object);
}

byRefPrototypes.add(ByReference.prototype);

/**
 * Send `value` with the objects in `list` moved rather than copied (ArrayBuffers, MessagePorts…).
 * After the send the sender's buffers are detached. Returns `value`.
 */
export function transfer<T extends object>(value: T, list: readonly Transferable[]): T {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    throw new InvalidArgumentError(`[transfer] transfer() marks an object or array to send, not a ${value === null ? 'null' : typeof value}; wrap the value in one`, { parameter: 'value' });
  }
  if (!transferLists.has(value)) {
    pendingTransfers++;
    if (markedThisTurn.push(value) === 1) queueMicrotask(registerUnsent);
  }
  transferLists.set(value, list);
  return value;
}

/** Whether some transfer() list is registered and not yet taken (the codec's walk skips a lookup while none is). */
export function transfersPending(): boolean {
  return pendingTransfers > 0;
}

/** Take (and forget) the transfer list registered for `value`, if any. */
export function takeTransferList(value: object): readonly Transferable[] | undefined {
  if (pendingTransfers === 0) return undefined;
  const list = transferLists.get(value);
  if (list) {
    transferLists.delete(value);
    pendingTransfers--;
    // Nothing to remove for a value sent in the turn it was marked (most): a cheap miss then.
    unsent.unregister(value);
  }
  return list;
}

/**
 * Whether a non-function object travels by reference: marked with byRef(), an instance of a
 * registered class, or of a class that declares a static `threading` contract.
 */
export function isByRefObject(value: object, proto: object | null): boolean {
  if (anyMarked && markedObjects.has(value)) return true;
  for (let p = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (byRefPrototypes.has(p)) return true;
    const ctor = (p as { constructor?: unknown }).constructor;
    if (typeof ctor === 'function' && typeof (ctor as { threading?: unknown }).threading === 'string') {
      byRefPrototypes.add(p);
      return true;
    }
  }
  return false;
}

/**
 * An exported object with this method is told when its last external reference goes (released by
 * every importer, or its apartment closing), so it can let go of what it holds for them: a stream
 * source closes the iterator it reads, running the producer's `finally` blocks.
 */
export const ON_UNREFERENCED: unique symbol = Symbol('apartment-runtime.on-unreferenced');
