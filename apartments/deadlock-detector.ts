// The runtime's wait-for graph: which call chain waits for which, across every apartment. An
// apartment reports an edge when a call has to wait for another chain's turn on an object, and
// removes it when the call starts or is cancelled. An edge that closes a cycle is a deadlock: no
// chain in it can ever proceed. Main apartment only.
import type { WaitEdge } from './admission.js';
import { ApartmentError } from '../marshal/errors.js';

/**
 * The most an apartment other than the main one may have recorded here, in estimated bytes: its
 * edges come from its own reports, which a plugin may make up without end. Real waits weigh about
 * 150 bytes each, so this holds more than the waiting calls an apartment admits by default.
 */
export const MAX_WAIT_BYTES = 16 * 2 ** 20;

/**
 * The most wait-for edges one report may walk. Real waits form short chains (a chain waits in one
 * place at a time), but a plugin can report a chain of thousands from its far end, each report
 * then leading along all the ones before it: 20,000 such reports kept the main thread busy for
 * minutes. Past this, the report is not checked for deadlocks; its call still ends at its deadline.
 */
export const MAX_WALK = 256;

/** What pathTo answers when the walk used up its budget. */
const CUT = Symbol('cut');

/** What an edge costs the host to keep, roughly: the record, its holders and its names. */
function weightOf(edge: WaitEdge): number {
  return 96 + 16 * edge.holders.length + 2 * (edge.object.length + edge.method.length);
}

/** The wait-for graph of causality ids, fed by every apartment's admission. */
export class DeadlockDetector {
  private readonly byKey = new Map<string, WaitEdge>();
  private readonly byWaiter = new Map<number, Set<string>>();
  /** By apartment, the weight of the edges it reported (see weightOf). */
  private readonly weights = new Map<number, number>();
  /** Apartments told that a walk through their waits stopped (once each: a plugin repeats it at will). */
  private readonly cutTold = new Set<number>();

  get size(): number {
    return this.byKey.size;
  }

  /**
   * Add an edge; if it closes a cycle, take it out again and return the DeadlockError message that
   * names every chain, apartment and method in the cycle (the waiting call is to be refused with it).
   */
  breakIfCycle(edge: WaitEdge, label: (apartment: number) => string, gaveUp?: (message: string) => void): string | undefined {
    const cycle = this.add(edge);
    if (cycle === CUT) {
      if (this.cutTold.has(edge.apartment)) return undefined;
      this.cutTold.add(edge.apartment);
      gaveUp?.(`[wait-walk] looking for a deadlock through chain ${formatChain(edge.waiter)} waiting in ${label(edge.apartment)}, the runtime walked ${MAX_WALK} wait-for edges and stopped; that wait is not checked for deadlocks and ends at its call's deadline — fewer calls waiting on one another`);
      return undefined;
    }
    if (!cycle) return undefined;
    this.remove(edge.apartment, edge.id);
    return `[deadlock] call chains wait on each other: ${describeCycle(cycle, label)}; this call was refused to break the cycle — mark one method interleave, make one class reentrant, or do not call back into a busy object`;
  }

  /** Add an edge; returns the cycle it closes (starting with it), undefined, or CUT when the search gave up. */
  add(edge: WaitEdge): WaitEdge[] | typeof CUT | undefined {
    // An edge reported again replaces the one before (left in place, its old waiter would still lead to it).
    this.remove(edge.apartment, edge.id);
    const weight = weightOf(edge);
    const held = this.weights.get(edge.apartment) ?? 0;
    if (edge.apartment !== 0 && held + weight > MAX_WAIT_BYTES) {
      throw new ApartmentError('ERROR_BUSY', `[wait-quota] apartment ${edge.apartment} has reported waits worth ${held} bytes (at most ${MAX_WAIT_BYTES}); this wait is not watched for deadlocks — fewer waiting calls at once, or shorter names`);
    }
    this.weights.set(edge.apartment, held + weight);
    const key = `${edge.apartment}:${edge.id}`;
    this.byKey.set(key, edge);
    let keys = this.byWaiter.get(edge.waiter);
    if (!keys) this.byWaiter.set(edge.waiter, (keys = new Set()));
    keys.add(key);
    const visited = new Set<number>();
    const budget = { left: MAX_WALK };
    for (const holder of edge.holders) {
      const path = this.pathTo(holder, edge.waiter, visited, budget);
      if (path === CUT) return CUT;
      if (path) return [edge, ...path];
    }
    return undefined;
  }

  remove(apartment: number, id: number): void {
    const key = `${apartment}:${id}`;
    const edge = this.byKey.get(key);
    if (!edge) return;
    this.byKey.delete(key);
    const left = (this.weights.get(apartment) ?? 0) - weightOf(edge);
    if (left > 0) this.weights.set(apartment, left);
    else this.weights.delete(apartment);
    const keys = this.byWaiter.get(edge.waiter)!;
    keys.delete(key);
    if (keys.size === 0) this.byWaiter.delete(edge.waiter);
  }

  /** The edge `apartment` reported as `id`, if it is still there. */
  find(apartment: number, id: number): WaitEdge | undefined {
    return this.byKey.get(`${apartment}:${id}`);
  }

  /** Every edge now (a copy: the caller may change the graph as it goes). */
  edges(): WaitEdge[] {
    return [...this.byKey.values()];
  }

  /** Forget every edge an apartment reported (it closed or died). */
  removeApartment(apartment: number): void {
    this.cutTold.delete(apartment);
    for (const edge of [...this.byKey.values()]) if (edge.apartment === apartment) this.remove(apartment, edge.id);
  }

  /**
   * Edges leading from chain `from` to chain `to`, if `to` is reachable. Walked with a stack of its
   * own, not by recursion: a chain of made-up waits as long as a plugin likes overflowed the
   * thread's stack, and every later wait that reached it went unchecked. At most `budget.left`
   * edges are looked at (CUT past them).
   */
  private pathTo(from: number, to: number, visited: Set<number>, budget: { left: number }): WaitEdge[] | typeof CUT | undefined {
    // The edge each chain was first reached by: the path back from `to` follows their waiters.
    const reachedBy = new Map<number, WaitEdge>();
    const stack = [from];
    while (stack.length > 0) {
      const chain = stack.pop()!;
      if (chain === to) {
        const path: WaitEdge[] = [];
        for (let at = chain; at !== from; at = path[0]!.waiter) path.unshift(reachedBy.get(at)!);
        return path;
      }
      if (visited.has(chain)) continue;
      visited.add(chain);
      const keys = this.byWaiter.get(chain);
      if (!keys) continue;
      for (const key of keys) {
        if (--budget.left < 0) return CUT;
        const edge = this.byKey.get(key)!;
        // Pushed last to first, so the first holder is walked first, as the recursive walk did.
        for (let i = edge.holders.length - 1; i >= 0; i--) {
          const holder = edge.holders[i]!;
          if (visited.has(holder)) continue;
          reachedBy.set(holder, edge);
          stack.push(holder);
        }
      }
    }
    return undefined;
  }
}

/** A causality id as people read it: the apartment that started the chain, and its number there. */
export function formatChain(causality: number): string {
  return `#${Math.floor(causality / 0x1_0000_0000)}.${causality % 0x1_0000_0000}`;
}

/** Describe a cycle for a DeadlockError message. */
export function describeCycle(cycle: readonly WaitEdge[], label: (apartment: number) => string): string {
  return cycle
    .map((e) => `chain ${formatChain(e.waiter)} waits in ${label(e.apartment)} to call ${e.object}.${e.method}, held by chain ${e.holders.map(formatChain).join(', ')}`)
    .join('; ');
}
