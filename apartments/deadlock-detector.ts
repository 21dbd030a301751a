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

/** What an edge costs the host to keep, roughly: the record, its holders and its names. */
function weightOf(edge: WaitEdge): number {
  return 96 + 16 * edge.holders.length + 2 * (edge.object.length + edge.method.length);
}

/** The wait-for graph of causality ids, fed by every apartment's admission. */
export class DeadlockDetector {
  private readonly edges = new Map<string, WaitEdge>();
  private readonly byWaiter = new Map<number, Set<string>>();
  /** By apartment, the weight of the edges it reported (see weightOf). */
  private readonly weights = new Map<number, number>();

  get size(): number {
    return this.edges.size;
  }

  /**
   * Add an edge; if it closes a cycle, take it out again and return the DeadlockError message that
   * names every chain, apartment and method in the cycle (the waiting call is to be refused with it).
   */
  breakIfCycle(edge: WaitEdge, label: (apartment: number) => string): string | undefined {
    const cycle = this.add(edge);
    if (!cycle) return undefined;
    this.remove(edge.apartment, edge.id);
    return `[deadlock] call chains wait on each other: ${describeCycle(cycle, label)}; this call was refused to break the cycle — mark one method interleave, make one class reentrant, or do not call back into a busy object`;
  }

  /** Add an edge; returns the cycle it closes (starting with it), or undefined. */
  add(edge: WaitEdge): WaitEdge[] | undefined {
    // An edge reported again replaces the one before (left in place, its old waiter would still lead to it).
    this.remove(edge.apartment, edge.id);
    const weight = weightOf(edge);
    const held = this.weights.get(edge.apartment) ?? 0;
    if (edge.apartment !== 0 && held + weight > MAX_WAIT_BYTES) {
      throw new ApartmentError('ERROR_BUSY', `[wait-quota] apartment ${edge.apartment} has reported waits worth ${held} bytes (at most ${MAX_WAIT_BYTES}); this wait is not watched for deadlocks — fewer waiting calls at once, or shorter names`);
    }
    this.weights.set(edge.apartment, held + weight);
    const key = `${edge.apartment}:${edge.id}`;
    this.edges.set(key, edge);
    let keys = this.byWaiter.get(edge.waiter);
    if (!keys) this.byWaiter.set(edge.waiter, (keys = new Set()));
    keys.add(key);
    const visited = new Set<number>();
    for (const holder of edge.holders) {
      const path = this.pathTo(holder, edge.waiter, visited);
      if (path) return [edge, ...path];
    }
    return undefined;
  }

  remove(apartment: number, id: number): void {
    const key = `${apartment}:${id}`;
    const edge = this.edges.get(key);
    if (!edge) return;
    this.edges.delete(key);
    const left = (this.weights.get(apartment) ?? 0) - weightOf(edge);
    if (left > 0) this.weights.set(apartment, left);
    else this.weights.delete(apartment);
    const keys = this.byWaiter.get(edge.waiter)!;
    keys.delete(key);
    if (keys.size === 0) this.byWaiter.delete(edge.waiter);
  }

  /** Forget every edge an apartment reported (it closed or died). */
  removeApartment(apartment: number): void {
    for (const edge of [...this.edges.values()]) if (edge.apartment === apartment) this.remove(apartment, edge.id);
  }

  /**
   * Edges leading from chain `from` to chain `to`, if `to` is reachable. Walked with a stack of its
   * own, not by recursion: a chain of made-up waits as long as a plugin likes overflowed the
   * thread's stack, and every later wait that reached it went unchecked.
   */
  private pathTo(from: number, to: number, visited: Set<number>): WaitEdge[] | undefined {
    // Each step: the chain reached, and the edge that led to it (undefined for `from` itself).
    const stack: { chain: number; via: WaitEdge | undefined; depth: number }[] = [{ chain: from, via: undefined, depth: 0 }];
    const path: WaitEdge[] = [];
    while (stack.length > 0) {
      const { chain, via, depth } = stack.pop()!;
      path.length = Math.max(0, depth - 1);
      if (via) path.push(via);
      if (chain === to) return path;
      if (visited.has(chain)) continue;
      visited.add(chain);
      const next: { chain: number; via: WaitEdge; depth: number }[] = [];
      for (const key of this.byWaiter.get(chain) ?? []) {
        const edge = this.edges.get(key)!;
        for (const holder of edge.holders) next.push({ chain: holder, via: edge, depth: depth + 1 });
      }
      // Reversed, so the first holder is walked first, as the recursive walk did.
      for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]!);
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
