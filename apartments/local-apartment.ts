// The apartment a thread belongs to, as seen from inside that thread: its endpoint (exports,
// proxies, channels), its copy of the class table, its class loader and dispatcher, and the
// creation paths user code reaches through currentApartment(). One per thread; owner thread only.
import { checkClassName, ClassTable, type ClassDescriptor } from './class-table.js';
import type { ApartmentContext, ApartmentKind } from './context.js';
import type { CreationMode } from './contract.js';
import { InvalidArgumentError } from '../marshal/errors.js';
import { checkOptionKeys } from '../marshal/option-keys.js';
import { CREATE_OPTION_KEYS } from './assignment-names.js';
import type { Channel } from '../marshal/channel.js';
import { Endpoint } from '../marshal/endpoint.js';
import { ControlRouter, controlClient, endpointTransport, wireName, type ControlClient, type ControlRole, type ControlServiceId } from './control-plane.js';
import { ApartmentService, ObjectsService } from './engine-services.js';
import { CONTROL_OID, type ConnectMessage, type PeerGoneMessage, type ReadyMessage } from '../marshal/protocol.js';
import { callOptions, type RetryPolicy } from '../marshal/call-options.js';
import { currentCall, publicView } from './context.js';
import { Admission, type MessageFilter, type Reentrancy, type WaitReporter } from './admission.js';
import { ClassLoader } from './class-loader.js';
import { placeLocally } from './placement.js';
import type { ApartmentStats } from './apartment-stats.js';
import type { AssignmentSpec } from './assignment.js';
import { HookRunner, type HooksRegistration } from './apartment-hooks.js';
import { FreeObjects, type FreeClass } from './free-objects.js';
import { MarshalTable } from './marshal-table.js';
import { Dispatcher } from './dispatcher.js';
import type { CallLimits } from './call-limits.js';
import { cantCallOut, refuseCallOutInInputSync } from './input-sync.js';
import { SharedLease } from './shared-lease.js';
import { SCRIPT_GATE_BYTES } from './script-gate.js';
import { ChainIds } from './chain-ids.js';

/** What a local apartment needs from the thread that hosts it. */
export interface LocalApartmentOptions {
  id: number;
  name: string;
  kind: ApartmentKind;
  defaultTimeoutMs: number;
  classes: readonly ClassDescriptor[];
  /** Ask for a transport to `peer` (the main thread brokers it). */
  connect(peer: number): void;
  onLifecycle(channel: Channel, msg: ReadyMessage | ConnectMessage | PeerGoneMessage): void;
  /** External creation: which apartment the assignment policy picks for `className`. */
  place(className: string, mode: CreationMode, assignment?: AssignmentSpec): Promise<number>;
  /** Told when nothing this apartment exports is referenced any more. */
  onUnreferenced?(): void;
  /** Told when this apartment starts or stops waiting on calls to `peer`. */
  busyChanged?(peer: number, busy: boolean): void;
  /** Lease a shared resource from the runtime (the main apartment owns them). */
  acquireShared(name: string): Promise<{ lease: number; value: unknown }>;
  releaseShared(lease: number): Promise<void>;
  label(apartment: number): string;
  /** Log a warning; `causality` names the call chain it is about (default: the call being served, if any). */
  warn(message: string, causality?: number): void;
  /** How objects here admit unrelated calls unless their class says otherwise. */
  reentrancy: Reentrancy;
  /** Retry policy of outgoing calls that name none. */
  retry: RetryPolicy | undefined;
  /** Where waiting calls are reported, for deadlock detection. */
  waits: WaitReporter;
  /** The free pool's apartment ids (known to pool threads; empty elsewhere). */
  pool?: readonly number[];
  /** The role of apartment `id` when it calls this apartment's control services. */
  roleOf(id: number): ControlRole;
  /** Which script run may be interrupted (script-gate.ts; shared with the main thread). */
  scriptGate?: SharedArrayBuffer;
  /** Queue limits and overrun policy of calls into this apartment (default: DEFAULT_CALL_LIMITS). */
  callLimits?: CallLimits;
  /** Fault this apartment's thread (the overrun policy 'fault'); worker apartments only. */
  fault?(error: Error): void;
}

/** This thread's apartment: marshaling endpoint, classes and creation paths. */
export class LocalApartment implements ApartmentContext {
  readonly id: number;
  readonly name: string;
  readonly kind: ApartmentKind;
  readonly classTable: ClassTable;
  readonly loader: ClassLoader;
  readonly dispatcher: Dispatcher;
  readonly endpoint: Endpoint;
  readonly admission: Admission;
  readonly hooks: HookRunner;
  readonly freeObjects: FreeObjects;
  readonly marshalTable: MarshalTable;
  /** The control services this apartment serves (at CONTROL_OID); features register theirs at start. */
  readonly control: ControlRouter;
  private readonly clients = new Map<string, unknown>();
  /** Which script engine is running a script here now ([oid, generation]); read by the main thread's interrupt service. */
  readonly scriptGate: Int32Array;
  private readonly resetHooks: (() => void | Promise<void>)[] = [];
  /** Shared-resource leases taken here and not yet released (a reset gives them back). */
  private readonly leases = new Set<SharedLease<unknown>>();
  private filter: MessageFilter | undefined;
  private readonly chainIds: ChainIds;

  constructor(private readonly options: LocalApartmentOptions) {
    this.id = options.id;
    this.chainIds = new ChainIds(options.id);
    this.name = options.name;
    this.kind = options.kind;
    this.classTable = new ClassTable(options.classes);
    this.marshalTable = new MarshalTable(options.id);
    this.scriptGate = new Int32Array(options.scriptGate ?? new SharedArrayBuffer(SCRIPT_GATE_BYTES));
    // Hooks modules are user code: they get the public view, not this engine object.
    this.hooks = new HookRunner(publicView(this), options.warn, options.defaultTimeoutMs);
    this.loader = new ClassLoader(this.classTable, () => this.hooks.ready, (loaded) => {
      if (loaded.contract.marshal !== 'standard') this.freeObjects.adopt(loaded.descriptor.name, loaded.cls as unknown as FreeClass, loaded.contract);
    }, options.label(options.id), options.kind === 'main' ? options.defaultTimeoutMs : Infinity);
    this.admission = new Admission(options.id, options.reentrancy, options.waits);
    this.dispatcher = new Dispatcher({
      label: options.label(options.id),
      admission: this.admission,
      filter: () => this.filter,
      warn: options.warn,
      classOf: (target) => this.loader.classForAdmission(target),
      labelOf: options.label,
      limits: options.callLimits,
      fault: options.fault,
      // Worker apartments start no user call while an attach hook runs there (replayed ones
      // included); the main apartment runs its attach when the host registers, outside any call.
      attach: options.kind === 'main' ? undefined : this.hooks,
    });
    this.endpoint = new Endpoint({
      self: options.id,
      defaultTimeoutMs: options.defaultTimeoutMs,
      dispatcher: this.dispatcher,
      causality: (method, peer) => {
        const served = currentCall();
        if (served?.inputSync && peer !== undefined) throw cantCallOut(`call '${String(method)}'`, options.label(peer));
        return served?.causality ?? this.newCausality();
      },
      retry: options.retry,
      onUnreferenced: options.onUnreferenced,
      busyChanged: options.busyChanged,
      connect: options.connect,
      onLifecycle: (channel, msg) => options.onLifecycle(channel, msg),
      label: options.label,
      warn: options.warn,
    });
    this.freeObjects = this.initFree();
    this.control = new ControlRouter(options.id, options.roleOf);
    this.endpoint.control = this.control.target;
  }

  /** A short form for console.log(currentApartment()) and util.inspect(): not the engine's internals. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `ApartmentContext { apartment '${this.name}' (${this.id}), ${this.kind} }`;
  }

  /** A typed client for control service `service` in apartment `peer` (this one included). */
  controlOf<Api>(peer: number, service: ControlServiceId<Api>): ControlClient<Api> {
    const key = `${peer}:${service.name}`;
    let client = this.clients.get(key) as ControlClient<Api> | undefined;
    if (!client) {
      client = controlClient(peer === this.id ? {
        call: async (_peer, wire, args) => this.control.local(wire, args),
        notify: (_peer, wire, args) => {
          try {
            const r = this.control.local(wire, args);
            if (r instanceof Promise) r.catch((err: unknown) => this.options.warn(`[notify] '${wire}' failed: ${(err as Error)?.message ?? String(err)}`));
          } catch (err) {
            this.options.warn(`[notify] '${wire}' failed: ${(err as Error)?.message ?? String(err)}`);
          }
        },
      } : endpointTransport(this.endpoint), peer, service);
      this.clients.set(key, client);
    }
    return client;
  }

  /**
   * Run `registration`'s attach in apartment `peer` (main apartment only). The call outlives the
   * attach's own deadline there (its defaultTimeoutMs) by one more call deadline for the way back,
   * so an attach that never settles fails it with that apartment's CallTimeoutError [hook-attach]
   * rather than a bare call timeout.
   */
  attachIn(peer: number, registration: HooksRegistration): Promise<unknown> {
    const options = callOptions({ timeoutMs: 2 * this.options.defaultTimeoutMs });
    return this.endpoint.call(peer, CONTROL_OID, wireName(ApartmentService, 'registerHooks'), [registration], options);
  }

  /** Runtime internals: built after the endpoint, which the free-object registry uses. */
  private initFree(): FreeObjects {
    return new FreeObjects(this.id, this.kind === 'pool', this.loader, this.endpoint, () => [...(this.options.pool ?? [])], this.options.label);
  }

  /** This apartment's counts (from its own thread): exports, proxies, queues, loaded classes. */
  stats(): ApartmentStats {
    return {
      ...this.endpoint.stats(),
      queuedCalls: this.dispatcher.queuedInApartment(),
      runningCalls: this.admission.runningChains(currentCall()?.causality ?? -1),
      loadedClasses: this.loader.size,
      wedgedCalls: this.dispatcher.wedgedCalls,
      refusedCalls: this.dispatcher.refusedCalls,
    };
  }

  /** The deadline of this apartment's calls out that name none, ms. */
  get defaultTimeoutMs(): number {
    return this.options.defaultTimeoutMs;
  }

  get classes(): readonly string[] {
    return this.classTable.names();
  }

  /** A fresh logical-thread id, unique across the runtime and unguessable (chain-ids.ts). */
  newCausality(): number {
    return this.chainIds.next();
  }

  onReset(hook: () => void | Promise<void>): void {
    if (typeof hook !== 'function') throw new InvalidArgumentError('[reset-hook] onReset needs a function', { parameter: 'hook' });
    this.resetHooks.push(hook);
  }

  async acquireShared<T = unknown>(name: string): Promise<SharedLease<T>> {
    const { lease, value } = await this.options.acquireShared(name);
    // Two leases of one resource in this apartment share its one proxy, but each arrival brought
    // its own reference: a lease gives back only its own, so releasing one never cuts off another.
    const held: SharedLease<T> = new SharedLease(value as T, async () => {
      this.leases.delete(held);
      this.endpoint.releaseReference(value);
      await this.options.releaseShared(lease);
    });
    this.leases.add(held);
    return held;
  }

  /**
   * Make the apartment as new for its next user (pool checkin): run reset hooks, give back its
   * shared-resource leases, release every reference it holds, disconnect everything it exports,
   * revoke the tokens it marshaled (they would reach the last owner's objects), forget loaded classes.
   */
  async reset(): Promise<void> {
    for (const hook of this.resetHooks.splice(0)) {
      try {
        await hook();
      } catch (err) {
        this.options.warn(`[reset-hook] a reset hook failed in apartment ${this.id}: ${(err as Error)?.message ?? String(err)}`);
      }
    }
    await Promise.all([...this.leases].map((held) => held.release().catch((err: unknown) => {
      this.options.warn(`[reset-lease] a shared-resource lease of apartment ${this.id} could not be given back: ${(err as Error)?.message ?? String(err)}`);
    })));
    this.endpoint.releaseAllImports();
    this.marshalTable.clear();
    this.endpoint.exports.clear();
    this.loader.clear();
    this.filter = undefined;
  }

  setMessageFilter(filter: MessageFilter | undefined): void {
    if (filter !== undefined && typeof filter !== 'function') {
      throw new InvalidArgumentError('[message-filter] a message filter must be a function (call) => verdict, or undefined to remove it', { parameter: 'filter' });
    }
    this.filter = filter;
  }

  registerClass(descriptor: ClassDescriptor): void {
    this.classTable.set(descriptor);
    this.loader.invalidate(descriptor.name);
  }

  async createObject<T = unknown>(className: string, ...args: unknown[]): Promise<T> {
    this.assertMayPlace(className);
    return (await this.createAt(await this.options.place(className, 'external'), className, args)) as T;
  }

  async createObjectWith<T = unknown>(options: { assignment?: AssignmentSpec }, className: string, ...args: unknown[]): Promise<T> {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('[create-options] createObjectWith needs an options object first', { parameter: 'options' });
    checkOptionKeys(options, CREATE_OPTION_KEYS, 'createObjectWith()');
    this.assertMayPlace(className);
    return (await this.createAt(await this.options.place(className, 'external', options.assignment), className, args)) as T;
  }

  async createInstance<T = unknown>(className: string, ...args: unknown[]): Promise<T> {
    checkClassName(className);
    const contract = await this.loader.contractOf(className);
    const placement = contract.place({ creator: this.kind, mode: 'in-process', hasMainApartment: true });
    const target = placeLocally(placement, this.id) ?? await this.options.place(className, 'in-process');
    return (await this.createAt(target, className, args)) as T;
  }

  /** External creation asks the runtime where to go (and may start an apartment): not from an input-synchronous call. */
  private assertMayPlace(className: string): void {
    checkClassName(className);
    const refused = refuseCallOutInInputSync(`creating '${className}' through the assignment policy`, 'the runtime');
    if (refused) throw refused;
  }

  /** Create `className` in apartment `target`: here directly, elsewhere through its control object. */
  async createAt(target: number, className: string, args: unknown[]): Promise<unknown> {
    if (target === this.id) return this.loader.construct(className, args);
    const refused = refuseCallOutInInputSync(`creating '${className}'`, this.options.label(target));
    if (refused) throw refused;
    return this.controlOf(target, ObjectsService).createObject(className, args);
  }
}
