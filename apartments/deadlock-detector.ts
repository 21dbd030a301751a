// The runtime's wait-for graph: which call chain waits for which, across every apartment. An
// apartment reports an edge when a call has to wait for another chain's turn on an object, and
// removes it when the call starts or is cancelled. An edge that closes a cycle is a deadlock: no
// chain in it can ever proceed. Main apartment only.
import type { WaitEdge } from './admission.js';

/** The wait-for graph of causality ids, fed by every apartment's admission. */
export class DeadlockDetector {
  private readonly edges = new Map<string, WaitEdge>();
  private readonly byWaiter = new Map<number, Set<string>>();

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
    const keys = this.byWaiter.get(edge.waiter)!;
    keys.delete(key);
    if (keys.size === 0) this.byWaiter.delete(edge.waiter);
  }

  /** Forget every edge an apartment reported (it closed or died). */
  removeApartment(apartment: number): void {
    for (const edge of [...this.edges.values()]) if (edge.apartment === apartment) this.remove(apartment, edge.id);
  }

  /** Edges leading from chain `from` to chain `to`, if `to` is reachable. */
  private pathTo(from: number, to: number, visited: Set<number>): WaitEdge[] | undefined {
    if (from === to) return [];
    if (visited.has(from)) return undefined;
    visited.add(from);
    for (const key of this.byWaiter.get(from) ?? []) {
      const edge = this.edges.get(key)!;
      for (const holder of edge.holders) {
        const rest = this.pathTo(holder, to, visited);
        if (rest) return [edge, ...rest];
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
