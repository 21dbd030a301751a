// The codec's walk (codec.ts) enters each array and plain object it walks in a Set, so a value
// that holds one twice, or a cycle, is walked once: that insertion was half the walk of a
// 2 000-record array. A small container (LOOSE_ITEMS entries at most) is walked without it
// ("loose") as long as it holds nothing but primitives and functions: met twice, it is walked twice,
// at most LOOSE_ITEMS reads and a path each time, and LOOSE_VISITS bounds the repeats per value.
// At its first item that is an object it enters the Set after all, before walking that item, so the
// walk never goes deeper through a container it does not remember: a cycle always meets an entered
// container, the walk is as deep as with every container entered, and a container is first met at
// the same place and path. A container found entered already there was walked before: what this
// visit did (references made, strings counted) is given back, and it is left as it is. A string in
// a loose container may be counted twice; a count that goes over MAX_COPIED_CHARS after that is
// only a suspicion, and the value is walked again with every container entered before it is refused.
// One kind of object item keeps a container loose: a flat array (flatArray()), the `tags: ['a', 'b']`
// of a record. It holds nothing that leads anywhere, so no cycle, depth or first-met place can run
// through it; it is counted where it stands, and never entered either.
import * as types from 'node:util/types';
import { CUSTOM_MARSHAL, transfersPending, type CustomMarshaled } from './by-ref.js';
import type { WireRef } from './protocol.js';

/** The part of the walk's state this module reads and writes. */
export interface LooseState {
  space: { discard(refs: WireRef[], peer: number): void };
  peer: number;
  refs: WireRef[] | undefined;
  seen: Set<object> | undefined;
  /** Characters of the strings walked so far, each counted where it appears (copy-weight.ts). */
  chars: number;
  /** Containers walked without entering `seen` so far. */
  looseVisits: number;
  /** A string was counted inside a container walked without entering: `chars` may count it twice. */
  approx: boolean;
  /** Every container enters `seen` (the walk again, after an approximate count went over). */
  exact: boolean;
  /** What CUSTOM_MARSHAL returned, in the order called: kept for the walk again, which takes it. */
  customs: Array<[object, CustomMarshaled]> | undefined;
  /** How many of `customs` the walk again has taken. */
  customsTaken: number;
  /**
   * `chars`, `approx` and the number of `refs` when the loose container being walked was met: one
   * at a time, as a loose container walks no container (settle() puts them back).
   */
  markChars: number;
  markApprox: boolean;
  markRefs: number;
}

/** The most entries of a container walked without entering it. */
export const LOOSE_ITEMS = 16;
const LOOSE_VISITS = 1 << 16;

/** Thrown inside a walk whose approximate count went over: the value is walked again, exactly. */
export const RECOUNT = Symbol('recount');

/** Whether a container of `size` entries met now is walked loose; counts the visit when it is. */
export function walkLoose(size: number, st: LooseState): boolean {
  if (st.exact || size > LOOSE_ITEMS || st.looseVisits >= LOOSE_VISITS) return false;
  st.looseVisits++;
  st.markChars = st.chars;
  st.markApprox = st.approx;
  st.markRefs = st.refs?.length ?? 0;
  return true;
}

/** Whether a container met now may be walked loose, whatever its size. */
export function mayWalkLoose(st: LooseState): boolean {
  return !st.exact && st.looseVisits < LOOSE_VISITS;
}

/** Enter `obj` in `seen`: false when it was there already (walked, or being walked). */
export function enter(obj: object, st: LooseState): boolean {
  // One lookup, not has() then add(): this runs for every container the walk enters.
  const seen = (st.seen ??= new Set());
  const before = seen.size;
  return seen.add(obj).size !== before;
}

/**
 * A loose container met an item that is an object: enter it. False when it was entered already;
 * the visit is then undone (references made, strings counted: back to the marks walkLoose() set),
 * and the caller leaves the container as it is.
 */
export function settle(obj: object, st: LooseState): boolean {
  if (enter(obj, st)) return true;
  st.chars = st.markChars;
  st.approx = st.markApprox;
  if (st.refs && st.refs.length > st.markRefs) st.space.discard(st.refs.splice(st.markRefs), st.peer);
  return false;
}

/** Count a string met in a container (`loose`: walked loose); true when the count went over `max`. */
export function countString(st: LooseState, s: string, loose: boolean, max: number): boolean {
  if (loose) st.approx = true;
  return (st.chars += s.length) > max;
}

/**
 * What `obj`'s CUSTOM_MARSHAL returns. The walk again after RECOUNT takes what the first walk's
 * calls returned, in their order, instead of calling it again: a value that marshals itself once
 * (a traveling engine's copy removes its CUSTOM_MARSHAL) would otherwise travel differently.
 */
export function customMarshaled(obj: object, custom: () => CustomMarshaled, st: LooseState): CustomMarshaled {
  const log = st.customs;
  if (st.exact) {
    const logged = log?.[st.customsTaken];
    if (logged !== undefined && logged[0] === obj) {
      st.customsTaken++;
      return logged[1];
    }
    return custom.call(obj);
  }
  const made = custom.call(obj);
  (st.customs ??= []).push([obj, made]);
  return made;
}

/**
 * Whether `item`, an object met inside a loose container, is a flat array: an array of this realm
 * or another, not a Proxy, of at most LOOSE_ITEMS items, each a primitive other than a symbol (no
 * object, function or symbol), with nothing that marshals it otherwise (CUSTOM_MARSHAL, a pending
 * transfer() list, which the walk must take). Its items hold no reference and need no walk.
 */
export function flatArray(item: object): item is unknown[] {
  if (!Array.isArray(item) || item.length > LOOSE_ITEMS || types.isProxy(item)) return false;
  if ((item as { [CUSTOM_MARSHAL]?: unknown })[CUSTOM_MARSHAL] !== undefined || transfersPending()) return false;
  for (let i = 0; i < item.length; i++) {
    const v: unknown = item[i];
    if (v !== null && (typeof v === 'object' || typeof v === 'function' || typeof v === 'symbol')) return false;
  }
  return true;
}
