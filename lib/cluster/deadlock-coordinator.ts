// The cluster's deadlock coordinator: the one node that holds the directory's `role.deadlocks`
// claim keeps the waits every linked runtime reports (shared-waits.ts) in one wait-for graph, and
// looks for a cycle each time a wait comes in. A cycle within one runtime is that runtime's own to
// break (its graph saw it first). One through several runtimes is checked before anything is broken,
// because reports from different nodes arrive in no common order and the graph may hold a wait that
// has ended: each node of the cycle is asked whether its waits still hold, and only when every one
// does — so all of them held at once, when the cycle was seen, and a deadlock does not undo itself —
// is the node of the wait that closed the cycle told to refuse it. Main thread only.
import type { WaitEdge } from '../../apartments/admission.js';
import { DeadlockDetector, describeCycle } from '../../apartments/deadlock-detector.js';
import type { SharedWait, WaitRef, WaitsReport } from './wait-messages.js';
import { sameChains } from '../wait-graph.js';

/** The most nodes whose waits the coordinator keeps. */
const MAX_NODES = 1_024;
/** The most waits the coordinator keeps for one node; what it reports past that is not watched. */
export const MAX_WAITS_PER_NODE = 10_000;
/** The most apartments of one node the coordinator tells apart. */
const MAX_APARTMENTS_PER_NODE = 4_096;

/** How the coordinator reaches the nodes of a cycle. */
export interface CycleBreaker {
  /** Whether each of `waits` still holds on `node`; undefined when the node did not answer. */
  confirm(node: string, waits: readonly WaitRef[]): Promise<boolean[] | undefined>;
  /** Tell `node` to refuse `wait` with DeadlockError `message`; whether it did. */
  breakWait(node: string, wait: WaitRef, message: string): Promise<boolean>;
  warn(message: string): void;
}

/** One node's waits as the coordinator holds them: by `apartment:id`, each with the graph's edge for it. */
interface NodeWaits {
  heard: number;
  readonly waits: Map<string, { shared: SharedWait; edge: WaitEdge }>;
  readonly apartments: Map<number, number>;
  /** Told once that it reports more than the coordinator keeps. */
  toldFull: boolean;
}

/** Where a graph apartment (one per node and apartment) comes from. */
interface GraphApartment {
  readonly node: string;
  readonly apartment: number;
  readonly label: string;
}

export class DeadlockCoordinator {
  private readonly graph = new DeadlockDetector();
  private readonly nodes = new Map<string, NodeWaits>();
  private readonly apartments = new Map<number, GraphApartment>();
  private nextApartment = 1;
  /** The closing waits of cycles being checked now (`node/apartment:id`): each is checked once at a time. */
  private readonly checking = new Set<string>();
  private toldNodes = false;

  constructor(private readonly breaker: CycleBreaker) {}

  /** How many waits the coordinator holds now. */
  get size(): number {
    return this.graph.size;
  }

  /** Node `node` reports its waits (`now` is when). */
  report(node: string, report: WaitsReport, now: number): void {
    let held = this.nodes.get(node);
    if (!held) {
      if (this.nodes.size >= MAX_NODES) {
        if (!this.toldNodes) this.breaker.warn(`[deadlock-coordinator] this node keeps the waits of ${MAX_NODES} nodes already; node '${node}' is not watched for deadlocks across runtimes (its calls still end at their deadlines)`);
        this.toldNodes = true;
        return;
      }
      this.nodes.set(node, (held = { heard: now, waits: new Map(), apartments: new Map(), toldFull: false }));
    }
    held.heard = now;
    if (report.full) {
      const kept = new Set(report.add.map((wait) => `${wait.apartment}:${wait.id}`));
      for (const key of [...held.waits.keys()]) if (!kept.has(key)) this.drop(held, key);
    }
    for (const [apartment, id] of report.gone) this.drop(held, `${apartment}:${id}`);
    for (const wait of report.add) this.put(node, held, wait);
  }

  /** Forget the waits of nodes not heard from since `before` (they left, or died). */
  sweep(before: number): void {
    for (const [node, held] of [...this.nodes]) if (held.heard < before) this.forget(node);
  }

  /** Forget every wait of `node`. */
  forget(node: string): void {
    const held = this.nodes.get(node);
    if (!held) return;
    for (const key of [...held.waits.keys()]) this.drop(held, key);
    for (const id of held.apartments.values()) this.apartments.delete(id);
    this.nodes.delete(node);
  }

  private put(node: string, held: NodeWaits, wait: SharedWait): void {
    const key = `${wait.apartment}:${wait.id}`;
    const known = held.waits.get(key);
    // Reported again as it was (each full report repeats every wait): nothing new to look for.
    if (known && known.shared.waiter === wait.waiter && sameChains(known.shared.holders, wait.holders)) return;
    if (!known && held.waits.size >= MAX_WAITS_PER_NODE) {
      if (!held.toldFull) this.breaker.warn(`[deadlock-coordinator] node '${node}' reports more than ${MAX_WAITS_PER_NODE} waits; those past them are not watched for deadlocks across runtimes (their calls still end at their deadlines)`);
      held.toldFull = true;
      return;
    }
    const apartment = this.graphApartment(node, held, wait);
    if (apartment === undefined) return;
    const edge: WaitEdge = { id: wait.id, apartment, waiter: wait.waiter, holders: wait.holders, object: wait.object, method: wait.method };
    let cycle: ReturnType<DeadlockDetector['add']>;
    try {
      cycle = this.graph.add(edge);
    } catch {
      // Over the graph's quota for that apartment: the wait is not watched, as in one runtime.
      return;
    }
    held.waits.set(key, { shared: wait, edge });
    if (!Array.isArray(cycle)) return;
    const nodes = new Set(cycle.map((e) => this.apartments.get(e.apartment)!.node));
    if (nodes.size < 2) return;
    const closing = `${node}/${key}`;
    if (this.checking.has(closing)) return;
    this.checking.add(closing);
    void this.settle(cycle, nodes.size).catch((err: unknown) => this.breaker.warn(`[deadlock-coordinator] checking a cycle across runtimes failed: ${(err as Error)?.message ?? String(err)}`)).finally(() => this.checking.delete(closing));
  }

  /** Check that every wait of `cycle` still holds, then have the first (the one that closed it) refused. */
  private async settle(cycle: WaitEdge[], runtimes: number): Promise<void> {
    const byNode = new Map<string, WaitRef[]>();
    for (const edge of cycle) {
      const { node, apartment } = this.apartments.get(edge.apartment)!;
      let refs = byNode.get(node);
      if (!refs) byNode.set(node, (refs = []));
      refs.push({ apartment, id: edge.id, waiter: edge.waiter, holders: edge.holders });
    }
    const answers = await Promise.all([...byNode].map(([node, refs]) => this.breaker.confirm(node, refs)));
    if (!answers.every((held) => held?.every(Boolean))) return;
    const closing = this.apartments.get(cycle[0]!.apartment);
    if (!closing) return;
    const message = `[deadlock] call chains of ${runtimes} runtimes wait on each other: ${describeCycle(cycle, (id) => this.label(id))}; this call was refused to break the cycle — mark one method interleave, make one class reentrant, or do not call back into a busy object`;
    const first = cycle[0]!;
    await this.breaker.breakWait(closing.node, { apartment: closing.apartment, id: first.id, waiter: first.waiter, holders: first.holders }, message);
  }

  private label(id: number): string {
    const apartment = this.apartments.get(id);
    return apartment ? `${apartment.label} of node '${apartment.node}'` : `apartment ${id}`;
  }

  /** The graph's apartment for `wait`'s apartment on `node`; undefined past the node's allowance. */
  private graphApartment(node: string, held: NodeWaits, wait: SharedWait): number | undefined {
    const known = held.apartments.get(wait.apartment);
    if (known !== undefined) return known;
    if (held.apartments.size >= MAX_APARTMENTS_PER_NODE) return undefined;
    const id = this.nextApartment++;
    held.apartments.set(wait.apartment, id);
    this.apartments.set(id, { node, apartment: wait.apartment, label: wait.label });
    return id;
  }

  private drop(held: NodeWaits, key: string): void {
    const known = held.waits.get(key);
    if (!known) return;
    held.waits.delete(key);
    this.graph.remove(known.edge.apartment, known.edge.id);
  }
}
