// Assignment policies: which worker apartment an externally created object goes to (COM's
// out-of-process servers, Visual Basic's thread-pool choices). A policy is a function of the
// request and the apartments it manages; it answers one of them, or 'new' to start another.
// Each policy in use manages its own group of apartments, created on demand; one cap (the
// runtime's maxApartments) bounds all groups together.
import { availableParallelism } from 'node:os';
import { Mutex } from 'async-mutex';
import { InvalidArgumentError, shownValue } from '../marshal/errors.js';
import type { Apartment } from './apartment.js';
import { isLive } from './apartment-state.js';
import { ASSIGNMENT_KEYS, type NamedAssignment } from './assignment-names.js';
import { checkOptionKeys } from '../marshal/option-keys.js';

/** What is being placed, and for whom. */
export interface AssignmentRequest {
  readonly className: string;
  /** The apartment asking (0 for the main apartment). */
  readonly creator: number;
}

/** Picks an apartment among the live ones the policy manages (their `load` is fresh), or 'new'. */
export type AssignmentPolicy = (request: AssignmentRequest, apartments: readonly Apartment[]) => Apartment | 'new';

/** How a runtime or a createObject call names a policy. */
export type AssignmentSpec = NamedAssignment | AssignmentPolicy;

/** A policy and what the runtime must do for it. */
export interface PolicyDefinition {
  readonly name: string;
  readonly pick: AssignmentPolicy;
  /** Close an apartment of this group when nothing in it is referenced any more. */
  readonly exitWhenUnreferenced: boolean;
  /** Refresh each apartment's load before asking the policy. */
  readonly needsLoad: boolean;
  /** The process server its apartments run in; undefined: worker threads of this process. */
  readonly process?: string;
  /** The node of the cluster its apartments run on; undefined: this one. */
  readonly node?: string;
}

/** Where a group's apartments run: a process server, another node, or (neither) worker threads here. */
export interface GroupHost {
  readonly process?: string | undefined;
  readonly node?: string | undefined;
}

/** `single-thread`: every object goes to one shared worker apartment. */
export const singleThread: AssignmentPolicy = (_request, apartments) => apartments[0] ?? 'new';

/** `round-robin`: a fixed pool of `size`, filled in order and then wrapping, whatever the load. */
export function roundRobin(size: number): AssignmentPolicy {
  let next = 0;
  return (_request, apartments) => {
    const i = next++ % size;
    return i < apartments.length ? apartments[i]! : 'new';
  };
}

/** `least-loaded`: a fixed pool of `size`; the apartment with the fewest live objects, ties by queued calls. */
export function leastLoaded(size: number): AssignmentPolicy {
  return (_request, apartments) => {
    const idle = apartments.find((a) => a.load.objects === 0 && a.load.queuedCalls === 0);
    if (idle) return idle;
    if (apartments.length < size) return 'new';
    return pickLeastLoaded(apartments);
  };
}

/** `thread-per-object`: a new apartment for every object (it exits when nothing in it is referenced). */
export const threadPerObject: AssignmentPolicy = () => 'new';

/** The apartment with the fewest live objects, ties broken by fewer queued calls, then by age. */
export function pickLeastLoaded(apartments: readonly Apartment[]): Apartment {
  let best = apartments[0]!;
  for (const a of apartments) {
    if (a.load.objects < best.load.objects || (a.load.objects === best.load.objects && a.load.queuedCalls < best.load.queuedCalls)) best = a;
  }
  return best;
}

/** Resolve a policy name (or function) into its definition; `defaultSize` sizes the fixed pools. */
export function definePolicy(spec: AssignmentSpec, defaultSize = availableParallelism()): PolicyDefinition {
  if (typeof spec === 'function') return { name: spec.name || 'custom', pick: spec, exitWhenUnreferenced: false, needsLoad: true };
  // Misspelt keys are refused first: { apartmens: 4 } read as no size, and { proces: 'p' } ran in threads here.
  if (typeof spec === 'object' && spec !== null) checkOptionKeys(spec, ASSIGNMENT_KEYS, 'an assignment', 'assignment');
  if (typeof spec === 'object' && spec !== null && ('process' in spec || 'node' in spec)) {
    const { process, node } = spec as GroupHost;
    if (process !== undefined && node !== undefined) throw new InvalidArgumentError('[assignment] an assignment names a process server or a node, not both', { parameter: 'assignment.node' });
    if (process !== undefined && typeof process !== 'string') throw new InvalidArgumentError('[assignment] assignment.process must name a process server', { parameter: 'assignment.process' });
    if (node !== undefined && typeof node !== 'string') throw new InvalidArgumentError('[assignment] assignment.node must name a node of the cluster', { parameter: 'assignment.node' });
    const { process: _process, node: _node, ...threads } = spec as typeof spec & GroupHost;
    const inThreads = definePolicy((threads.policy === 'single-thread' || threads.policy === 'thread-per-object' ? threads.policy : threads) as NamedAssignment, defaultSize);
    if (node !== undefined) return { ...inThreads, name: `${inThreads.name}@node:${node}`, node };
    if (process !== undefined) return { ...inThreads, name: `${inThreads.name}@${process}`, process };
    return inThreads;
  }
  if (typeof spec === 'object' && spec !== null) {
    if (spec.policy !== 'round-robin' && spec.policy !== 'least-loaded') {
      throw new InvalidArgumentError(`[assignment] { policy: '${shownValue(spec.policy)}' } takes a process; name it, or pass the policy by name`, { parameter: 'assignment.policy' });
    }
    if (!Number.isInteger(spec.apartments) || spec.apartments < 1) {
      throw new InvalidArgumentError(`[assignment] a ${spec.policy} pool needs a whole number of apartments ≥ 1; got ${shownValue(spec.apartments)}`, { parameter: 'assignment.apartments' });
    }
    if (spec.policy === 'round-robin') return { name: `round-robin(${spec.apartments})`, pick: roundRobin(spec.apartments), exitWhenUnreferenced: false, needsLoad: false };
    if (spec.policy === 'least-loaded') return { name: `least-loaded(${spec.apartments})`, pick: leastLoaded(spec.apartments), exitWhenUnreferenced: false, needsLoad: true };
  }
  switch (spec) {
    case 'single-thread':
      return { name: 'single-thread', pick: singleThread, exitWhenUnreferenced: false, needsLoad: false };
    case 'round-robin':
      return definePolicy({ policy: 'round-robin', apartments: defaultSize });
    case 'least-loaded':
      return definePolicy({ policy: 'least-loaded', apartments: defaultSize });
    case 'thread-per-object':
      return { name: 'thread-per-object', pick: threadPerObject, exitWhenUnreferenced: true, needsLoad: false };
    default:
      throw new InvalidArgumentError(`[assignment] unknown assignment policy ${JSON.stringify(spec)}; use 'single-thread', 'round-robin', 'thread-per-object', 'least-loaded', { policy, apartments } or a function`, { parameter: 'assignment' });
  }
}

/**
 * The cap on the apartments assignment policies start, shared by every group of one runtime: a
 * caller cannot escape it by naming a new policy (each new function would otherwise get a group,
 * and a cap, of its own). Slots are taken before an apartment starts, so two groups deciding at
 * once never both take the last one. Main apartment only.
 */
export class ApartmentBudget {
  private readonly groups = new Set<AssignmentGroup>();
  private starting = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly cap: number) {}

  /** Count this group's apartments against the cap. */
  join(group: AssignmentGroup): void {
    this.groups.add(group);
  }

  /** The group is dropped (it has no apartments left). */
  leave(group: AssignmentGroup): void {
    this.groups.delete(group);
  }

  /** Live apartments of every group. */
  get apartments(): readonly Apartment[] {
    return [...this.groups].flatMap((g) => g.apartments);
  }

  /** Take a slot for an apartment about to start, or return false at the cap. */
  reserve(): boolean {
    if (this.apartments.length + this.starting >= this.cap) return false;
    this.starting++;
    return true;
  }

  /** The apartment of a reserved slot started (and joined its group) or failed to. */
  settle(): void {
    this.starting--;
    for (const wake of this.waiting.splice(0)) wake();
  }

  /** Resolves when a slot that is starting now settles. */
  nextSettle(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

/**
 * The apartments one policy manages. Decisions are serialized (two objects placed at once never
 * both start "the one" shared apartment). When the budget is spent, a policy that asks for a new
 * apartment gets its own least-loaded apartment instead, or, having none, the least-loaded one of
 * all policies (documented in docs/assignment.md).
 */
export class AssignmentGroup {
  private members: Apartment[] = [];
  private readonly deciding = new Mutex();
  private started = 0;

  constructor(
    readonly definition: PolicyDefinition,
    private readonly budget: ApartmentBudget,
    private readonly start: (name: string, host: GroupHost) => Promise<Apartment>,
  ) {
    budget.join(this);
  }

  get apartments(): readonly Apartment[] {
    return this.members.filter((a) => isLive(a.state));
  }

  has(apartment: Apartment): boolean {
    return this.members.includes(apartment);
  }

  /** No apartment and no decision in progress: nothing is lost by dropping the group. */
  get idle(): boolean {
    return this.members.length === 0 && !this.deciding.isLocked();
  }

  forget(apartment: Apartment): void {
    this.members = this.members.filter((a) => a !== apartment);
  }

  /** Pick (or start) the apartment for one object. */
  assign(request: AssignmentRequest): Promise<Apartment> {
    return this.deciding.runExclusive(async () => {
      const live = this.apartments;
      if (this.definition.needsLoad) await Promise.all(live.map((a) => a.refreshLoad()));
      const choice = this.definition.pick(request, live);
      if (choice === 'new') return this.startOrShare(live);
      if (!live.includes(choice)) {
        throw new InvalidArgumentError(`[assignment] policy '${this.definition.name}' returned an apartment it was not offered; return one of the apartments passed in, or 'new'`, { parameter: 'assignment' });
      }
      await choice.ready;
      return choice;
    });
  }

  /** Start a new apartment if the budget allows; at the cap, share the least-loaded one there is. */
  private async startOrShare(live: readonly Apartment[]): Promise<Apartment> {
    if (!this.budget.reserve()) {
      const candidates = live.length > 0 ? live : this.budget.apartments;
      // Every slot is taken by apartments still starting (concurrent first uses): wait for one.
      if (candidates.length === 0) {
        await this.budget.nextSettle();
        return this.startOrShare(this.apartments);
      }
      await Promise.all(candidates.map((a) => a.refreshLoad()));
      const shared = pickLeastLoaded(candidates);
      await shared.ready;
      return shared;
    }
    try {
      const apt = await this.start(`${this.definition.name}-${++this.started}`, { process: this.definition.process, node: this.definition.node });
      this.members.push(apt);
      return apt;
    } finally {
      this.budget.settle();
    }
  }
}

/** The key of the group `spec` names: a pool described by an object is named by what it says. */
function keyOf(spec: AssignmentSpec): unknown {
  return typeof spec === 'object' && spec !== null ? `${spec.policy}:${'apartments' in spec ? spec.apartments : ''}@${(spec as GroupHost).process ?? ''}@${(spec as GroupHost).node ?? ''}` : spec;
}

/**
 * Every assignment group of one runtime, keyed by policy (named policies share one group; a
 * policy function has its own), and the one cap they share. A group is dropped once it has no
 * apartment, so a new inline function, or a new pool size, per creation leaves nothing behind:
 * any apartment may name a pool size, and one kept per size grew the host without bound. Main
 * apartment only.
 */
export class AssignmentGroups {
  private readonly groups = new Map<unknown, AssignmentGroup>();
  private readonly budget: ApartmentBudget;

  constructor(cap: number, private readonly start: (name: string, host: GroupHost) => Promise<Apartment>) {
    this.budget = new ApartmentBudget(cap);
  }

  /** Pick (or start) the apartment for one object under `spec`. */
  async assign(spec: AssignmentSpec, request: AssignmentRequest): Promise<Apartment> {
    const group = this.groupFor(spec);
    try {
      return await group.assign(request);
    } finally {
      this.dropIfIdle(keyOf(spec), group);
    }
  }

  /** The group `spec` names, made (and the spec checked) on first use. */
  groupFor(spec: AssignmentSpec): AssignmentGroup {
    const key = keyOf(spec);
    let group = this.groups.get(key);
    if (!group) {
      group = new AssignmentGroup(definePolicy(spec), this.budget, (name, host) => this.start(name, host));
      this.groups.set(key, group);
    }
    return group;
  }

  /** Whether `apartment` belongs to a policy whose apartments exit when nothing in them is referenced. */
  exitsWhenUnreferenced(apartment: Apartment): boolean {
    return [...this.groups.values()].some((g) => g.definition.exitWhenUnreferenced && g.has(apartment));
  }

  /** An apartment is gone: no group counts it any more. */
  forget(apartment: Apartment): void {
    for (const [key, group] of this.groups) {
      group.forget(apartment);
      this.dropIfIdle(key, group);
    }
  }

  private dropIfIdle(key: unknown, group: AssignmentGroup): void {
    if (!group.idle || this.groups.get(key) !== group) return;
    this.groups.delete(key);
    this.budget.leave(group);
  }
}
