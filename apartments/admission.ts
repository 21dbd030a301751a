// Call admission: which incoming call may start now. Default: turn-based with call-chain
// reentrancy (Orleans, Windows ASTA) — an object serves one logical call (one causality id) at a
// time across awaits; calls of the same chain (A → B → A) are admitted at once; unrelated calls
// wait in FIFO order. Classes may opt out (`static reentrancy = 'reentrant'`, classic STA) or mark
// methods `static interleave = [...]` (always admitted) and `static readOnly = [...]` (run alongside
// each other, never alongside a writer). Waiting calls are reported as wait-for edges so the
// runtime can find deadlocks. Owner apartment only.

import { classNameOf } from '../marshal/class-name.js';
import { IdTable } from '../marshal/id-table.js';

/** How an object admits unrelated calls while it awaits. */
export type Reentrancy = 'turn-based' | 'reentrant';

/** COM's classification of an incoming call, as the message filter sees it. */
export type CallCategory = 'top-level' | 'nested' | 'top-level-while-pending';

/** A message filter's answer. */
export type FilterVerdict = 'accept' | 'reject' | 'retry-later';

/** What a message filter is shown about an incoming call. */
export interface IncomingCallView {
  readonly category: CallCategory;
  readonly method: string;
  readonly callerApartment: number;
  readonly causality: number;
  readonly className: string;
}

/** An apartment's message filter (COM's IMessageFilter::HandleInComingCall). */
export type MessageFilter = (call: IncomingCallView) => FilterVerdict;

/** A call chain waiting for others to finish their turn on an object. */
export interface WaitEdge {
  readonly id: number;
  readonly apartment: number;
  readonly waiter: number;
  readonly holders: readonly number[];
  readonly object: string;
  readonly method: string;
}

/** Where wait-for edges go (the runtime's deadlock detector). */
export interface WaitReporter {
  added(edge: WaitEdge): void;
  removed(apartment: number, id: number): void;
}

/** A call that has to wait for its turn: `start` runs it once admitted, `refuse` if a deadlock is broken. */
export interface WaitingCall {
  readonly target: object;
  readonly method: string;
  readonly causality: number;
  start(turn: Turn | Untracked): void;
  refuse(error: Error): void;
}

/** What a call that takes no turn holds (reentrant objects, interleave methods, control calls). */
export const UNTRACKED = 0;
export type Untracked = typeof UNTRACKED;

/** One object's turn: who holds it (usually one chain, several for readers) and who waits. */
export interface Turn {
  mode: 'read' | 'write' | undefined;
  owner: number;
  ownerCount: number;
  others: Map<number, number> | undefined;
  queue: Queued[];
}

interface Queued {
  call: WaitingCall;
  readOnly: boolean;
  edge: WaitEdge;
}

interface ClassRules {
  reentrancy: Reentrancy | undefined;
  interleave: ReadonlySet<string>;
  readOnly: ReadonlySet<string>;
  unfiltered: ReadonlySet<string>;
}

const noMethods: ReadonlySet<string> = new Set();
const rulesCache = new WeakMap<object, ClassRules>();

function rulesOf(target: object): ClassRules {
  const ctor = (target as { constructor?: unknown }).constructor;
  if (typeof ctor !== 'function') return { reentrancy: undefined, interleave: noMethods, readOnly: noMethods, unfiltered: noMethods };
  let rules = rulesCache.get(ctor);
  if (!rules) {
    const s = ctor as { reentrancy?: unknown; interleave?: unknown; readOnly?: unknown; unfiltered?: unknown };
    rules = {
      reentrancy: s.reentrancy === 'reentrant' || s.reentrancy === 'turn-based' ? s.reentrancy : undefined,
      interleave: Array.isArray(s.interleave) ? new Set(s.interleave.map(String)) : noMethods,
      readOnly: Array.isArray(s.readOnly) ? new Set(s.readOnly.map(String)) : noMethods,
      unfiltered: Array.isArray(s.unfiltered) ? new Set(s.unfiltered.map(String)) : noMethods,
    };
    rulesCache.set(ctor, rules);
  }
  return rules;
}

/**
 * Whether the class of `target` declares `method` as never put to its apartment's message filter
 * (`static unfiltered`): a call that gives back what its caller holds, which a refusal would leave
 * held for good.
 */
export function passesFilter(target: object, method: string): boolean {
  try {
    return rulesOf(target).unfiltered.has(method);
  } catch {
    // Its class cannot be read (a `constructor` getter that throws): the filter decides, and admission answers the call.
    return false;
  }
}

/** A handle on a call that was queued, to cancel it before it starts. */
export interface QueuedTicket {
  cancel(): void;
}

function holds(turn: Turn, c: number): boolean {
  return (turn.ownerCount > 0 && turn.owner === c) || (turn.others !== undefined && turn.others.has(c));
}

function holderList(turn: Turn): number[] {
  const list = turn.ownerCount > 0 ? [turn.owner] : [];
  if (turn.others) list.push(...turn.others.keys());
  return list;
}

/** One apartment's admission state: per-object turns and the apartment's running chains. */
export class Admission {
  private readonly turns = new WeakMap<object, Turn>();
  private readonly queuedById = new Map<number, { turn: Turn; entry: Queued }>();
  /** causality → calls of that chain running in this apartment (for the filter's categories). */
  private readonly running = new IdTable<number>();
  private nextEdge = 1;

  constructor(
    private readonly apartment: number,
    private readonly defaultReentrancy: Reentrancy,
    private readonly waits: WaitReporter,
  ) {}

  /** Calls waiting for their turn. */
  get queuedCalls(): number {
    return this.queuedById.size;
  }

  /** Calls waiting for their turn on `target`. */
  queuedOn(target: object): number {
    return this.turns.get(target)?.queue.length ?? 0;
  }

  /** Chains running here, not counting `except` (the caller asking). */
  runningChains(except: number): number {
    return this.running.size - (this.running.has(except) ? 1 : 0);
  }

  /** Classify an incoming call the way COM's message filter sees it. */
  classify(causality: number): CallCategory {
    if (this.running.has(causality)) return 'nested';
    return this.running.size === 0 ? 'top-level' : 'top-level-while-pending';
  }

  /**
   * Admit a call now if it may start: returns what it holds (pass it to leave() when the call
   * settles), or undefined when it must wait() for its turn.
   */
  enter(target: object, method: string, causality: number, exempt: boolean): Turn | Untracked | undefined {
    const rules = exempt ? undefined : rulesOf(target);
    if (!rules || (rules.reentrancy ?? this.defaultReentrancy) === 'reentrant' || rules.interleave.has(method)) {
      this.started(causality);
      return UNTRACKED;
    }
    let turn = this.turns.get(target);
    if (!turn) this.turns.set(target, (turn = { mode: undefined, owner: 0, ownerCount: 0, others: undefined, queue: [] }));
    const readOnly = rules.readOnly.size > 0 && rules.readOnly.has(method);
    if (turn.mode === undefined) turn.mode = readOnly ? 'read' : 'write';
    else if (!holds(turn, causality) && !(readOnly && turn.mode === 'read' && turn.queue.length === 0)) return undefined;
    this.hold(turn, causality);
    return turn;
  }

  /** Queue a call that enter() could not admit; it starts when the turn reaches it. */
  wait(call: WaitingCall): QueuedTicket {
    const turn = this.turns.get(call.target)!;
    const edge: WaitEdge = {
      id: this.nextEdge++,
      apartment: this.apartment,
      waiter: call.causality,
      holders: holderList(turn),
      object: classNameOf(call.target),
      method: call.method,
    };
    const entry: Queued = { call, readOnly: rulesOf(call.target).readOnly.has(call.method), edge };
    turn.queue.push(entry);
    this.queuedById.set(edge.id, { turn, entry });
    this.waits.added(edge);
    return { cancel: () => this.dequeue(turn, entry) };
  }

  /** A call admitted with enter() (or started from the queue) settled. */
  leave(turn: Turn | Untracked, causality: number): void {
    const n = this.running.get(causality)! - 1;
    if (n === 0) this.running.delete(causality);
    else this.running.set(causality, n);
    if (turn !== UNTRACKED) this.release(turn, causality);
  }

  /** Refuse a waiting call (its wait closed a deadlock cycle). */
  breakWait(edgeId: number, error: Error): boolean {
    const found = this.queuedById.get(edgeId);
    if (!found) return false;
    this.dequeue(found.turn, found.entry);
    found.entry.call.refuse(error);
    return true;
  }

  private dequeue(turn: Turn, entry: Queued): void {
    const i = turn.queue.indexOf(entry);
    if (i < 0) return;
    turn.queue.splice(i, 1);
    this.queuedById.delete(entry.edge.id);
    this.waits.removed(this.apartment, entry.edge.id);
  }

  private started(causality: number): void {
    this.running.set(causality, (this.running.get(causality) ?? 0) + 1);
  }

  private hold(turn: Turn, c: number): void {
    this.started(c);
    if (turn.ownerCount === 0) {
      turn.owner = c;
      turn.ownerCount = 1;
    } else if (turn.owner === c) {
      turn.ownerCount++;
    } else {
      turn.others ??= new Map();
      turn.others.set(c, (turn.others.get(c) ?? 0) + 1);
    }
  }

  private release(turn: Turn, c: number): void {
    if (turn.ownerCount > 0 && turn.owner === c) {
      turn.ownerCount--;
    } else {
      const n = turn.others!.get(c)! - 1;
      if (n > 0) turn.others!.set(c, n);
      else turn.others!.delete(c);
    }
    if (turn.ownerCount === 0 && turn.others && turn.others.size > 0) {
      const [next, count] = turn.others.entries().next().value as [number, number];
      turn.others.delete(next);
      turn.owner = next;
      turn.ownerCount = count;
    }
    if (turn.ownerCount > 0) return;
    turn.mode = undefined;
    // Hand the turn to the head of the queue; a reader at the head brings the readers behind it.
    while (turn.queue.length > 0) {
      const head = turn.queue[0]!;
      if (turn.mode === 'write' || (turn.mode === 'read' && !head.readOnly)) break;
      turn.queue.shift();
      this.queuedById.delete(head.edge.id);
      this.waits.removed(this.apartment, head.edge.id);
      turn.mode = head.readOnly ? 'read' : 'write';
      this.hold(turn, head.call.causality);
      head.call.start(turn);
    }
  }
}

