// The runtime's wait-for graph as its apartments report it: each waiting call is checked for a
// deadlock cycle among this runtime's apartments at once, and a cycle found is broken by refusing the
// waiting call that closed it. While this runtime is a node holding links to other runtimes, each
// wait is also shared with the cluster (lib/cluster/shared-waits.ts), whose coordinator finds the
// cycles that pass through several runtimes and asks this graph to break one of its waits. Main
// apartment only.
import type { WaitEdge } from '../apartments/admission.js';
import { DeadlockDetector } from '../apartments/deadlock-detector.js';
import { ApartmentService } from '../apartments/engine-services.js';
import type { LocalApartment } from '../apartments/local-apartment.js';
import type { LogEntry } from '../apartments/logger.js';
import { DeadlockError } from '../marshal/errors.js';

/** Where waits are shared beyond this runtime (a node of a cluster). */
export interface WaitSharing {
  added(edge: WaitEdge): void;
  removed(apartment: number, id: number): void;
}

/** What a cluster's deadlock coordinator may ask of a runtime's wait-for graph. */
export interface WaitSource {
  /** Every wait now. */
  edges(): Iterable<WaitEdge>;
  /** Whether the wait `apartment`/`id` is still there, by `waiter`, behind exactly `holders`. */
  holds(apartment: number, id: number, waiter: number, holders: readonly number[]): boolean;
  /** Refuse that wait with DeadlockError `message`; false when it is no longer there as described. */
  breakWait(apartment: number, id: number, waiter: number, holders: readonly number[], message: string): boolean;
  /** How people read apartment `id` of this runtime. */
  label(id: number): string;
}

export class WaitGraph implements WaitSource {
  private readonly detector = new DeadlockDetector();
  /** Set while this runtime is a node of a cluster. */
  private sharing: WaitSharing | undefined;

  constructor(
    private readonly local: () => LocalApartment,
    readonly label: (id: number) => string,
    private readonly log: (entry: LogEntry) => void,
  ) {}

  /** How many waits the graph holds now. */
  get size(): number {
    return this.detector.size;
  }

  /** Share every wait from now on (and each one there is now, which `sharing` reads itself). */
  share(sharing: WaitSharing | undefined): void {
    this.sharing = sharing;
  }

  /** A call had to wait for another chain's turn: if that closes a cycle here, refuse it with DeadlockError. */
  added(edge: WaitEdge): void {
    const message = this.detector.breakIfCycle(edge, this.label, (cut) => this.log({ level: 'warn', message: cut, apartment: edge.apartment, causality: edge.waiter }));
    if (!message) {
      // Only a wait this runtime kept (one over its quota was refused) may close a cycle elsewhere.
      if (this.sharing && this.detector.find(edge.apartment, edge.id) === edge) this.sharing.added(edge);
      return;
    }
    this.refuse(edge.apartment, edge.id, edge.waiter, message);
  }

  removed(apartment: number, id: number): void {
    if (this.sharing && this.detector.find(apartment, id)) this.sharing.removed(apartment, id);
    this.detector.remove(apartment, id);
  }

  /** Forget every wait of an apartment that closed or died. */
  removeApartment(apartment: number): void {
    if (this.sharing) for (const edge of this.detector.edges()) if (edge.apartment === apartment) this.sharing.removed(apartment, edge.id);
    this.detector.removeApartment(apartment);
  }

  edges(): Iterable<WaitEdge> {
    return this.detector.edges();
  }

  holds(apartment: number, id: number, waiter: number, holders: readonly number[]): boolean {
    const edge = this.detector.find(apartment, id);
    return edge !== undefined && edge.waiter === waiter && sameChains(edge.holders, holders);
  }

  breakWait(apartment: number, id: number, waiter: number, holders: readonly number[], message: string): boolean {
    if (!this.holds(apartment, id, waiter, holders)) return false;
    this.removed(apartment, id);
    this.refuse(apartment, id, waiter, message);
    return true;
  }

  private refuse(apartment: number, id: number, waiter: number, message: string): void {
    this.log({ level: 'warn', message, apartment, causality: waiter });
    const local = this.local();
    if (apartment === 0) local.admission.breakWait(id, new DeadlockError(message));
    else local.controlOf(apartment, ApartmentService).breakWait(id, message).catch(() => {});
  }
}

/** Whether two lists of chains name the same chains (in any order). */
export function sameChains(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  const left = [...a].sort((x, y) => x - y);
  const right = [...b].sort((x, y) => x - y);
  return left.every((chain, i) => chain === right[i]);
}
