// The control object the main apartment serves at CONTROL_OID: what worker apartments ask of the
// runtime (a channel to a peer, a placement decision, an object of a `single` class, a log line).
import { currentCall } from '../lib/context.js';
import type { CreationMode } from '../lib/contracts/contract.js';
import { DisconnectedError, InvalidArgumentError } from '../lib/errors.js';
import type { LogEntry } from '../lib/logger.js';
import { ControlBase } from './control-base.js';
import type { AssignmentSpec } from './assignment.js';
import type { SharedRingHandle } from '../marshal/shared-ring-transport.js';
import type { NamedGrant, NamedRegistry } from '../lib/shared-state/named-registry.js';
import type { WaitEdge } from './admission.js';
import type { LocalApartment } from './local-apartment.js';

/** What the main control needs from the runtime. */
export interface RuntimeServices {
  /** A port to `target` for `requester`, or null when one is already on its way. */
  connect(requester: number, target: number, offer?: { end: SharedRingHandle }): { port?: unknown; accepted?: boolean } | null;
  /** The apartment an object of `className` created by `requester` should live in. */
  place(requester: number, className: string, mode: CreationMode, assignment: AssignmentSpec | undefined): Promise<number>;
  unreferenced(apartment: number): void;
  acquireShared(name: string, apartment: number): Promise<{ lease: number; value: unknown }>;
  releaseShared(lease: number, apartment: number): Promise<void>;
  /** Named shared objects and create-once values. */
  readonly named: NamedRegistry;
  /** Interrupt the script engine `oid` of `apartment` if it runs a script now. */
  interruptScript(apartment: number, oid: number): Promise<boolean>;
  log(entry: LogEntry): void;
  waitAdded(edge: WaitEdge): void;
  waitRemoved(apartment: number, id: number): void;
}

/** Control surface of the main apartment; invoked only by the runtime's own calls. */
export class MainControl extends ControlBase {
  constructor(apartment: LocalApartment, private readonly services: RuntimeServices) {
    super(apartment);
  }

  private direct = false;

  /** Run a control method on behalf of the main apartment itself (not a remote caller). */
  asMain(method: string, args: unknown[]): unknown {
    this.direct = true;
    try {
      return (this as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
    } finally {
      this.direct = false;
    }
  }

  private caller(): number {
    if (this.direct) return 0;
    const call = currentCall();
    if (!call) throw new InvalidArgumentError('[control] control methods are for apartments of this runtime only');
    return call.callerApartment;
  }

  connect(target: unknown, offer?: unknown): { port?: unknown; accepted?: boolean } | null {
    if (typeof target !== 'number') throw new InvalidArgumentError('[connect] the target apartment id must be a number', { parameter: 'target' });
    const end = (offer as { end?: SharedRingHandle } | undefined)?.end;
    if (offer !== undefined && !(end?.sab instanceof SharedArrayBuffer)) throw new InvalidArgumentError('[connect] a link offer must carry a shared-ring handle', { parameter: 'offer' });
    return this.services.connect(this.caller(), target, end ? { end } : undefined);
  }

  place(className: unknown, mode: unknown, assignment?: unknown): Promise<number> {
    if (typeof className !== 'string') throw new InvalidArgumentError('[place] the class name must be a string', { parameter: 'className' });
    if (mode !== 'external' && mode !== 'in-process') throw new InvalidArgumentError(`[place] mode must be 'external' or 'in-process'`, { parameter: 'mode' });
    if (assignment !== undefined && typeof assignment !== 'string' && (typeof assignment !== 'object' || assignment === null)) {
      throw new InvalidArgumentError('[assignment] an apartment can name a built-in assignment policy, not pass a function; register custom policies on the runtime', { parameter: 'assignment' });
    }
    return this.services.place(this.caller(), className, mode, assignment as AssignmentSpec | undefined);
  }

  /** A worker's log line; `causality` is the call chain it is about (none: about no call). */
  log(level: unknown, message: unknown, causality?: unknown): void {
    const lv = level === 'debug' || level === 'info' || level === 'warn' || level === 'error' ? level : 'warn';
    if (causality !== undefined && (typeof causality !== 'number' || !Number.isSafeInteger(causality))) {
      throw new InvalidArgumentError('[log] the causality id of a log entry must be an integer', { parameter: 'causality' });
    }
    this.services.log({ level: lv, message: String(message), apartment: this.caller(), causality });
  }

  waitAdded(edge: unknown): void {
    const caller = this.caller();
    const e = edge as Partial<WaitEdge> | null;
    if (!e || typeof e.id !== 'number' || typeof e.waiter !== 'number' || !Array.isArray(e.holders) || !e.holders.every((h) => typeof h === 'number')
      || typeof e.object !== 'string' || typeof e.method !== 'string' || e.apartment !== caller) {
      throw new InvalidArgumentError('[wait-edge] malformed wait-for edge', { parameter: 'edge' });
    }
    this.services.waitAdded(e as WaitEdge);
  }

  waitRemoved(id: unknown): void {
    if (typeof id !== 'number') throw new InvalidArgumentError('[wait-edge] the edge id must be a number', { parameter: 'id' });
    this.services.waitRemoved(this.caller(), id);
  }

  acquireShared(name: unknown): Promise<{ lease: number; value: unknown }> {
    if (typeof name !== 'string') throw new InvalidArgumentError('[shared-name] the resource name must be a string', { parameter: 'name' });
    return this.services.acquireShared(name, this.caller());
  }

  releaseShared(lease: unknown): Promise<void> {
    if (typeof lease !== 'number') throw new InvalidArgumentError('[shared-lease] the lease must be a number', { parameter: 'lease' });
    return this.services.releaseShared(lease, this.caller());
  }

  /** The global interface table: cookie → token of a table-strong registration. */
  private readonly git = new Map<number, { apartment: number; id: number; kind: string }>();
  private nextCookie = 1;

  gitRegister(token: unknown): number {
    const t = token as { apartment?: unknown; id?: unknown; kind?: unknown } | null;
    if (!t || typeof t.apartment !== 'number' || typeof t.id !== 'number' || t.kind !== 'table-strong') {
      throw new InvalidArgumentError('[git] register needs a table-strong token', { parameter: 'token' });
    }
    const cookie = this.nextCookie++;
    this.git.set(cookie, { apartment: t.apartment, id: t.id, kind: 'table-strong' });
    return cookie;
  }

  gitLookup(cookie: unknown): { apartment: number; id: number; kind: string } {
    const entry = typeof cookie === 'number' ? this.git.get(cookie) : undefined;
    if (!entry) throw new DisconnectedError(`[git] cookie ${String(cookie)} is not registered (revoked?)`, { code: 'CO_E_OBJNOTCONNECTED' });
    return entry;
  }

  gitRevoke(cookie: unknown): { apartment: number; id: number; kind: string } {
    const entry = this.gitLookup(cookie);
    this.git.delete(cookie as number);
    return entry;
  }

  namedOpen(kind: unknown, name: unknown, bytes: unknown): Promise<NamedGrant> | NamedGrant {
    if (kind !== 'mutex' && kind !== 'memory' && kind !== 'counter') throw new InvalidArgumentError('[named-kind] kind must be mutex, memory or counter', { parameter: 'kind' });
    if (typeof name !== 'string' || typeof bytes !== 'number') throw new InvalidArgumentError('[named] needs a name and a size', { parameter: 'name' });
    return this.services.named.open(this.caller(), kind, name, bytes);
  }

  namedPublish(name: unknown): void {
    this.services.named.publish(this.caller(), String(name));
  }

  namedAbandon(name: unknown): void {
    this.services.named.abandon(this.caller(), String(name));
  }

  namedClose(name: unknown): void {
    this.services.named.close(this.caller(), String(name));
  }

  onceBegin(name: unknown): unknown {
    if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('[once] needs a non-empty name', { parameter: 'name' });
    return this.services.named.onceBegin(this.caller(), name);
  }

  onceDone(name: unknown, value: unknown): void {
    this.services.named.onceDone(this.caller(), String(name), value);
  }

  onceFailed(name: unknown): void {
    this.services.named.onceFailed(this.caller(), String(name));
  }

  interruptScript(apartment: unknown, oid: unknown): Promise<boolean> {
    if (typeof apartment !== 'number' || typeof oid !== 'number') throw new InvalidArgumentError('[interrupt] needs an apartment id and an object id', { parameter: 'apartment' });
    return this.services.interruptScript(apartment, oid);
  }

  /** The calling apartment's exports just dropped to none. */
  unreferenced(): void {
    this.services.unreferenced(this.caller());
  }
}
