// Call admission: which incoming call may start now. Default: turn-based with call-chain
// reentrancy (Orleans, Windows ASTA) — an object serves one logical call (one causality id) at a
// time across awaits; calls of the same chain (A → B → A) are admitted at once; unrelated calls
// wait in FIFO order. Classes may opt out (`static reentrancy = 'reentrant'`, classic STA) or mark
// methods `static interleave = [...]` (always admitted) and `static readOnly = [...]` (run alongside
// each other, never alongside a writer). Waiting calls are reported as wait-for edges so the
// runtime can find deadlocks. Owner apartment only.

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

/** A call admission is deciding about; `start` runs it, `finish` must be called when it settles. */
export interface AdmissionRequest {
  readonly target: object;
  readonly method: string;
  readonly causality: number;
  start(finish: () => void): void;
  /** The call was refused while it waited (a deadlock was broken). */
  refuse(error: Error): void;
}

interface Turn {
  mode: 'read' | 'write' | undefined;
  holders: Map<number, number>;
  queue: Queued[];
}

interface Queued {
  request: AdmissionRequest;
  readOnly: boolean;
  edge: WaitEdge;
}

interface ClassRules {
  reentrancy: Reentrancy | undefined;
  interleave: ReadonlySet<string>;
  readOnly: ReadonlySet<string>;
}

const noMethods: ReadonlySet<string> = new Set();
const rulesCache = new WeakMap<object, ClassRules>();

function rulesOf(target: object): ClassRules {
  const ctor = (target as { constructor?: unknown }).constructor;
  if (typeof ctor !== 'function') return { reentrancy: undefined, interleave: noMethods, readOnly: noMethods };
  let rules = rulesCache.get(ctor);
  if (!rules) {
    const s = ctor as { reentrancy?: unknown; interleave?: unknown; readOnly?: unknown };
    rules = {
      reentrancy: s.reentrancy === 'reentrant' || s.reentrancy === 'turn-based' ? s.reentrancy : undefined,
      interleave: Array.isArray(s.interleave) ? new Set(s.interleave.map(String)) : noMethods,
      readOnly: Array.isArray(s.readOnly) ? new Set(s.readOnly.map(String)) : noMethods,
    };
    rulesCache.set(ctor, rules);
  }
  return rules;
}

/** A handle on a call that was queued, to cancel it before it starts. */
export interface QueuedTicket {
  cancel(): void;
}

/** One apartment's admission state: per-object turns and the apartment's running chains. */
export class Admission {
  private readonly turns = new WeakMap<object, Turn>();
  private readonly queuedById = new Map<number, { turn: Turn; entry: Queued }>();
  /** causality → calls of that chain running in this apartment (for the filter's categories). */
  private readonly running = new Map<number, number>();
  private nextEdge = 1;

  constructor(
    private readonly apartment: number,
    private readonly defaultReentrancy: Reentrancy,
    private readonly waits: WaitReporter,
  ) {}

  /** Classify an incoming call the way COM's message filter sees it. */
  classify(causality: number): CallCategory {
    if (this.running.has(causality)) return 'nested';
    return this.running.size === 0 ? 'top-level' : 'top-level-while-pending';
  }

  /** Start the call now, or queue it; returns a ticket when it was queued. */
  admit(request: AdmissionRequest, exempt: boolean): QueuedTicket | undefined {
    const rules = exempt ? undefined : rulesOf(request.target);
    if (!rules || (rules.reentrancy ?? this.defaultReentrancy) === 'reentrant' || rules.interleave.has(request.method)) {
      this.run(request, undefined);
      return undefined;
    }
    const readOnly = rules.readOnly.has(request.method);
    let turn = this.turns.get(request.target);
    if (!turn) this.turns.set(request.target, (turn = { mode: undefined, holders: new Map(), queue: [] }));
    const nested = turn.holders.has(request.causality);
    const free = turn.mode === undefined;
    const shareRead = readOnly && turn.mode === 'read' && turn.queue.length === 0;
    if (nested || free || shareRead) {
      if (free) turn.mode = readOnly ? 'read' : 'write';
      this.hold(turn, request);
      return undefined;
    }
    const edge: WaitEdge = {
      id: this.nextEdge++,
      apartment: this.apartment,
      waiter: request.causality,
      holders: [...turn.holders.keys()],
      object: nameOf(request.target),
      method: request.method,
    };
    const entry: Queued = { request, readOnly, edge };
    turn.queue.push(entry);
    this.queuedById.set(edge.id, { turn, entry });
    this.waits.added(edge);
    const t = turn;
    return { cancel: () => this.dequeue(t, entry) };
  }

  /** Refuse a waiting call (its wait closed a deadlock cycle). */
  breakWait(edgeId: number, error: Error): boolean {
    const found = this.queuedById.get(edgeId);
    if (!found) return false;
    this.dequeue(found.turn, found.entry);
    found.entry.request.refuse(error);
    return true;
  }

  private dequeue(turn: Turn, entry: Queued): void {
    const i = turn.queue.indexOf(entry);
    if (i < 0) return;
    turn.queue.splice(i, 1);
    this.queuedById.delete(entry.edge.id);
    this.waits.removed(this.apartment, entry.edge.id);
  }

  private hold(turn: Turn, request: AdmissionRequest): void {
    turn.holders.set(request.causality, (turn.holders.get(request.causality) ?? 0) + 1);
    this.run(request, turn);
  }

  private run(request: AdmissionRequest, turn: Turn | undefined): void {
    const c = request.causality;
    this.running.set(c, (this.running.get(c) ?? 0) + 1);
    let finished = false;
    request.start(() => {
      if (finished) return;
      finished = true;
      const n = this.running.get(c)! - 1;
      if (n === 0) this.running.delete(c);
      else this.running.set(c, n);
      if (turn) this.release(turn, c);
    });
  }

  private release(turn: Turn, causality: number): void {
    const n = turn.holders.get(causality)! - 1;
    if (n > 0) {
      turn.holders.set(causality, n);
      return;
    }
    turn.holders.delete(causality);
    if (turn.holders.size > 0) return;
    turn.mode = undefined;
    // Hand the turn to the head of the queue; a reader at the head brings the readers behind it.
    while (turn.queue.length > 0) {
      const head = turn.queue[0]!;
      if (turn.mode === 'write' || (turn.mode === 'read' && !head.readOnly)) break;
      turn.queue.shift();
      this.queuedById.delete(head.edge.id);
      this.waits.removed(this.apartment, head.edge.id);
      turn.mode = head.readOnly ? 'read' : 'write';
      this.hold(turn, head.request);
    }
  }
}

function nameOf(target: object): string {
  if (typeof target === 'function') return 'function';
  return (Object.getPrototypeOf(target) as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'object';
}
