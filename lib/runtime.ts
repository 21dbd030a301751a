// The runtime facade a host uses: start it on the main thread (which becomes the main apartment),
// register classes, create worker apartments and objects, close everything. It also brokers the
// direct channels between apartments and runs the placement and assignment decisions.
import { EventEmitter } from 'node:events';
import type * as TypedEmitterTypes from 'typed-emitter';
import { Apartment } from '../apartments/apartment.js';
import { isLive } from '../apartments/apartment-state.js';
import { ApartmentRegistry } from '../apartments/apartment-registry.js';
import { placeWith } from '../apartments/placement.js';
import type { Reentrancy } from '../apartments/admission.js';
import { AssignmentGroups, type AssignmentSpec } from '../apartments/assignment.js';
import { LocalApartment } from '../apartments/local-apartment.js';
import { serveObjects } from '../apartments/apartment-services.js';
import { ApartmentService } from '../apartments/engine-services.js';
import { serveRuntime } from '../apartments/runtime-service.js';
import './contracts/builtins.js';
import './link-kinds.js';
import { launchApartment } from '../apartments/apartment-launcher.js';
import { workerHosts } from '../apartments/hosts/worker-host.js';
import { ApartmentPool, type PoolOptions } from '../apartments/apartment-pool.js';
import { checkHooksRegistration, DETACH_GRACE_MS, type HooksRegistration } from '../apartments/apartment-hooks.js';
import { ConnectionBroker } from '../apartments/broker.js';
import { named } from './shared-state/named.js';
import type { SharedResourceDefinition } from './shared-resources.js';
import { hostBootFeatures, installHostFeatures, type HostFeatures } from './host-features.js';
import { apartmentHost } from './process-apartments.js';
import { RestartPlans } from './restart-plans.js';
import { WaitGraph } from './wait-graph.js';
import { joinCluster, type ClusterNode, type ClusterView } from './cluster/cluster-node.js';
import { RuntimeTrace } from './trace/runtime-trace.js';
import { OPEN_TELEMETRY_HOOKS, openTelemetryRegistered } from './trace/open-telemetry.js';
import { TraceService } from './trace/trace-service.js';
import type { Trace } from './trace/trace-recorder.js';
import type { SharedLease } from '../apartments/shared-lease.js';
import type { RetryPolicy } from '../marshal/call-options.js';
import type { ApartmentStats } from '../apartments/apartment-stats.js';
import { mainLifecycle } from './main-lifecycle.js';
import type { Remote } from '../marshal/proxy.js';
import { describeClass, type ClassRegistration } from '../apartments/class-table.js';
import { currentApartment, currentCall, inApartment, publicView, setCurrentApartment, type ApartmentContext } from '../apartments/context.js';
import type { CreationMode } from '../apartments/contract.js';
import { ApartmentError, ChangedModeError, DisconnectedError } from '../marshal/errors.js';
import type { LogEntry, Logger } from '../apartments/logger.js';
import {
  resolveRuntimeOptions, type ApartmentOptions, type CreateOptions, type RuntimeEvents, type RuntimeOptions,
} from './runtime-options.js';

export type { ApartmentOptions, CreateOptions, RuntimeEvents, RuntimeOptions };

let running: Runtime | undefined;
/** Apartments run on worker threads, each running the worker's composition root, unless they name a process. */
const WORKER_HOSTS = workerHosts(new URL('./worker-main.js', import.meta.url));

/** The apartment runtime of this process; the thread that starts it is the main apartment. */
export class Runtime extends (EventEmitter as new () => TypedEmitterTypes.default<RuntimeEvents>) {
  /** The main apartment (this thread). */
  readonly main: ApartmentContext;
  private readonly local: LocalApartment;
  private readonly registry: ApartmentRegistry;
  /** The assignment policies' groups of apartments, under one cap (maxApartments). */
  private readonly assignments: AssignmentGroups;
  private readonly defaultAssignment: AssignmentSpec;
  private readonly idleTimeouts = new Map<Apartment, number>();
  private readonly broker: ConnectionBroker;
  private readonly features: HostFeatures;
  private readonly hookRegistrations: HooksRegistration[] = [];
  private readonly pools = new Set<ApartmentPool>();
  private readonly logger: Logger;
  private readonly defaultTimeoutMs: number;
  private readonly reentrancy: Reentrancy;
  private readonly retry: RetryPolicy | undefined;
  private readonly transport: string;
  private readonly waits = new WaitGraph(() => this.local, (id) => this.label(id), (entry) => this.log(entry));
  private readonly restartPlans = new RestartPlans((options) => this.createApartment(options), (entry) => this.log(entry), (faulted, replacement) => this.emit('apartment-restarted', faulted, replacement));
  private nextId = 1;
  private readonly freePoolSize: number;
  private freeThreads: Promise<Apartment[]> | undefined;
  private freeRotation = 0;
  private readonly poolIds = new Set<number>();
  private host: Promise<Apartment> | undefined;
  private readonly namedStarts = new Map<string, Promise<Apartment>>();
  private closing: Promise<void> | undefined;
  private readonly tracing: RuntimeTrace;
  /** This runtime as a node of a cluster, once joined (Runtime.start({ node })). */
  private clusterNode: ClusterNode | undefined;

  /** Start the runtime; the calling thread joins it as the main apartment. */
  static async start(options: RuntimeOptions = {}): Promise<Runtime> {
    if (inApartment() && currentApartment().kind === 'worker') {
      throw new ChangedModeError('[changed-mode] this thread is a worker apartment and cannot also be a main apartment; start the runtime on the host thread');
    }
    if (running) {
      throw new ApartmentError('E_UNEXPECTED', '[runtime-running] a runtime is already running in this process; close it first, or reuse it');
    }
    const rt = new Runtime(options);
    running = rt;
    try {
      if (options.openTelemetry ?? openTelemetryRegistered()) await rt.registerApartmentHooks(OPEN_TELEMETRY_HOOKS);
      if (options.node !== undefined) {
        rt.clusterNode = await joinCluster(options.node, (message) => rt.log({ level: 'warn', message, apartment: 0 }), rt.local, rt.waits);
        rt.clusterNode.shareCookies(rt.features.interfaceTable);
      }
    } catch (err) {
      await rt.close();
      throw err;
    }
    return rt;
  }

  private constructor(options: RuntimeOptions) {
    super();
    const settings = resolveRuntimeOptions(options);
    const timeout = settings.defaultTimeoutMs;
    this.defaultTimeoutMs = timeout;
    this.logger = settings.logger;
    this.assignments = new AssignmentGroups(settings.maxApartments, (name, host) => this.createApartment({ name, ...host }));
    this.defaultAssignment = settings.assignment;
    this.freePoolSize = settings.freePoolSize;
    this.assignments.groupFor(this.defaultAssignment);
    this.reentrancy = settings.reentrancy;
    this.retry = settings.retry;
    this.transport = settings.transport;
    this.registry = new ApartmentRegistry(() => this.local.endpoint);
    const local: LocalApartment = new LocalApartment({
      id: 0,
      name: 'main',
      kind: 'main',
      defaultTimeoutMs: timeout,
      reentrancy: this.reentrancy,
      retry: this.retry,
      roleOf: (id) => (id === 0 ? 'main' : this.poolIds.has(id) ? 'pool' : 'worker'),
      waits: this.waits,
      classes: [],
      label: (id) => this.label(id),
      connect: (peer) => {
        // The main apartment is connected to every live apartment from its start; anything else is gone.
        queueMicrotask(() => local.endpoint.peerGone(peer, new DisconnectedError(`[apartment-gone] ${this.label(peer)} is closed or unknown; create objects in a live apartment`)));
      },
      place: (className, mode, assignment) => this.place(0, className, mode, assignment),
      acquireShared: (name) => this.features.shared.acquire(name, 0),
      releaseShared: (lease) => this.features.shared.release(lease, 0),
      busyChanged: (peer, busy) => this.registry.get(peer)?.setBusy(busy),
      warn: (message, causality = currentCall()?.causality) => this.log({ level: 'warn', message, apartment: 0, causality }),
      onLifecycle: (channel, msg) => mainLifecycle(channel.peer, msg, { apartment: (id) => this.registry.get(id), label: (id) => this.label(id), warn: (message, apartment) => this.log({ level: 'warn', message, apartment }) }),
    });
    serveObjects(local.control, local);
    serveRuntime(local.control, {
      connect: (requester, target, offer) => this.broker.connect(requester, target, offer),
      place: (requester, className, mode, assignment) => this.place(requester, className, mode, assignment),
      unreferenced: (apartment) => this.unreferenced(apartment),
      log: (entry) => this.log(entry),
      waitAdded: (edge) => this.waits.added(edge),
      waitRemoved: (apartment, id) => this.waits.removed(apartment, id),
    });
    this.local = local;
    this.main = publicView(local);
    this.features = installHostFeatures(local, this.registry, (message) => this.log({ level: 'warn', message, apartment: 0 }));
    this.tracing = new RuntimeTrace(options.trace, options.diagnostics, (name, event) => (this.emit as (n: string, e: unknown) => boolean)(name, event), (name) => this.listenerCount(name));
    this.tracing.attachMain('main');
    this.on('apartment-faulted', (apt, error) => this.tracing.fault(apt.id, error.code));
    this.on('apartment-restarted', (faulted, replacement) => this.tracing.restart(faulted.id, replacement.id));
    // Features drop what a gone apartment held first; the runtime's own policies run last.
    this.registry.onGone((apt) => this.gone(apt));
    this.broker = new ConnectionBroker(local.endpoint, (id) => this.registry.get(id), (id) => this.label(id), (message) => this.log({ level: 'warn', message, apartment: 0 }));
    this.registerClass('ScriptEngine', { module: new URL('./script-engine/script-engine.js', import.meta.url), export: 'ScriptEngine' });
    setCurrentApartment(local);
  }

  /** This runtime as a node of a cluster (its name, epoch and the cluster's directory); undefined when it is none. */
  get node(): ClusterView | undefined {
    return this.clusterNode?.view;
  }

  /** Live worker apartments. */
  get apartments(): readonly Apartment[] {
    return this.registry.all();
  }

  /** Register a class by name for creation in any apartment. */
  registerClass(name: string, registration: ClassRegistration): void {
    this.assertOpen();
    const descriptor = describeClass(name, registration);
    this.local.registerClass(descriptor);
    // One-way: a failure to learn it is logged by the apartment itself ([notify]).
    for (const apt of this.registry.live()) void this.local.controlOf(apt.id, ApartmentService).registerClass(descriptor);
  }

  /** Start a new worker apartment and wait until it serves calls. */
  createApartment(options: ApartmentOptions = {}): Promise<Apartment> {
    return this.startApartment(options, 'worker', [], this.nextId++);
  }

  private async startApartment(options: ApartmentOptions, role: 'worker' | 'pool', pool: readonly number[], id: number): Promise<Apartment> {
    this.assertOpen();
    const labels = this.registry.labels();
    const { apartment: apt, near, idleTimeoutMs } = launchApartment({
      id, role, pool, labels, ...apartmentHost(options, WORKER_HOSTS, this.transport, this.clusterNode),
      defaults: { transport: this.transport, timeoutMs: this.defaultTimeoutMs, reentrancy: this.reentrancy, retry: this.retry },
      classes: this.local.classTable.all(),
      hooks: [...this.hookRegistrations],
      endpoint: this.local.endpoint,
      onGone: (a, reason) => this.registry.gone(a, reason),
      features: ({ name, sharedMemory }) => ({ ...this.tracing.bootFeatures(id, name, options.trace, sharedMemory), ...hostBootFeatures(sharedMemory) }),
    });
    this.registry.add(apt);
    if (idleTimeoutMs !== undefined) this.idleTimeouts.set(apt, idleTimeoutMs);
    this.restartPlans.add(apt, options);
    this.local.endpoint.attach(id, near, apt.link);
    this.emit('apartment-created', apt);
    await apt.ready;
    await this.tracing.attach(id, apt.name, apt.threadId ?? 0, options.trace, this.local.controlOf(id, TraceService), apt.link.sharedMemory);
    // Apartments that started earlier learn its label for their messages (they booted without it).
    // A one-way notice, not awaited: a busy apartment must not hold up creation elsewhere; it
    // arrives before any later call from here to that apartment.
    for (const o of this.registry.live()) {
      if (o !== apt) void this.local.controlOf(o.id, ApartmentService).learnLabel(id, apt.label);
    }
    if (!apt.asyncCausality) {
      await this.features.interrupts.watch(apt).catch((err: unknown) => this.log({ level: 'warn', message: (err as Error).message, apartment: id }));
    }
    if (this.idleTimeouts.has(apt)) this.unreferenced(apt.id);
    return apt;
  }

  /** External creation (CreateObject): placed by the class's contract and the assignment policy. */
  createObject<T = unknown>(className: string, ...args: unknown[]): Promise<Remote<T>> {
    return this.local.createObject<Remote<T>>(className, ...args);
  }

  /** External creation with options for this one object, such as its own assignment policy. */
  createObjectWith<T = unknown>(options: CreateOptions, className: string, ...args: unknown[]): Promise<Remote<T>> {
    return this.local.createObjectWith<Remote<T>>(options, className, ...args);
  }

  /** In-process creation (CoCreateInstance from the main apartment): the contract × creator matrix decides. */
  createInstance<T = unknown>(className: string, ...args: unknown[]): Promise<T> {
    return this.local.createInstance<T>(className, ...args);
  }

  /**
   * A hooks module's `attach` runs now in every apartment (the main one, and replayed in those that
   * exist) and in every later one before it serves calls; `detach` when one closes or dies. Resolves
   * once every live apartment attached; ModuleLoadError, registering nothing, if it fails to load here.
   */
  async registerApartmentHooks(registration: { module: string | URL; export?: string }): Promise<void> {
    this.assertOpen();
    const reg = checkHooksRegistration(registration);
    this.hookRegistrations.push(reg);
    await Promise.all([
      this.local.hooks.register(reg),
      ...this.registry.live().map((a) => this.local.attachIn(a.id, reg)),
    ]);
    const unloaded = this.local.hooks.loadFailure(reg);
    if (!unloaded) return;
    this.hookRegistrations.splice(this.hookRegistrations.indexOf(reg), 1);
    throw unloaded;
  }

  /** The live worker apartment called `name`, started on first use (placement 'named'). */
  private namedApartment(name: string): Promise<Apartment> {
    const live = this.registry.all().find((a) => a.name === name && isLive(a.state));
    if (live) return live.ready.then(() => live);
    let starting = this.namedStarts.get(name);
    if (!starting) {
      starting = this.createApartment({ name }).finally(() => this.namedStarts.delete(name));
      this.namedStarts.set(name, starting);
    }
    return starting;
  }

  /** The free pool (COM's MTA): its threads, started together on first use. */
  freePool(): Promise<Apartment[]> {
    this.freeThreads ??= (() => {
      const ids = Array.from({ length: this.freePoolSize }, () => this.nextId++);
      for (const id of ids) this.poolIds.add(id);
      return Promise.all(ids.map((id, i) => this.startApartment({ name: `free-${i + 1}` }, 'pool', ids, id)));
    })();
    return this.freeThreads;
  }

  /** A pool of warm apartments, each lent to one owner at a time and reset on checkin. */
  createPool(options: PoolOptions = {}): ApartmentPool {
    this.assertOpen();
    const pool = new ApartmentPool(options, this.local.endpoint, (name) => this.createApartment({ name }), (apt) => this.registry.reset(apt));
    this.pools.add(pool);
    return pool;
  }

  /** Define a resource made once on the main thread and shared by every apartment that leases it. */
  defineSharedResource<T>(name: string, definition: SharedResourceDefinition<T>): void {
    this.features.shared.define(name, definition);
  }

  /** Lease a shared resource for the main apartment. */
  acquireShared<T = unknown>(name: string): Promise<SharedLease<T>> {
    return this.local.acquireShared<T>(name);
  }

  /** Live leases of a shared resource. */
  sharedLeases(name: string): number {
    return this.features.shared.leases(name);
  }

  /** Named shared objects (mutexes, memory, counters), the same `named` every apartment can import. */
  readonly named = named;

  /** Whether a named object is open anywhere. */
  isNamedOpen(name: string): boolean {
    return this.features.named.isOpen(name);
  }

  /** Export, proxy and queue counts of the main apartment. */
  stats(): ApartmentStats {
    return this.local.stats();
  }

  /** What tracing recorded so far, merged in global order (empty when nothing is traced); see docs/tracing.md. */
  trace(): Trace {
    return this.tracing.snapshot();
  }

  /** Close every apartment, disconnect the main apartment's exports and leave the apartment. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const pool of this.pools) await pool.close();
      await Promise.all(this.registry.all().map((a) => a.close()));
      await this.clusterNode?.close();
      await this.local.hooks.detach('close', DETACH_GRACE_MS);
      this.local.endpoint.close(new DisconnectedError('[runtime-closed] the runtime was closed; start a new one to make calls'));
      await this.features.close();
      this.tracing.close();
      setCurrentApartment(undefined);
      if (running === this) running = undefined;
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) throw new DisconnectedError('[runtime-closed] the runtime was closed; start a new one');
  }

  private readonly label = (id: number): string => this.clusterNode?.linkLabel(id) ?? this.registry.label(id);

  /** Log an entry; one that does not name its chain (no `causality` key) gets the call being served here, if any. */
  private log(entry: LogEntry): void {
    const causality = 'causality' in entry ? entry.causality : currentCall()?.causality;
    entry = { level: entry.level, message: entry.message, apartment: entry.apartment };
    if (causality !== undefined) entry.causality = causality;
    this.emit('log', entry);
    this.logger(entry);
  }

  private async place(requester: number, className: string, mode: CreationMode, assignment: AssignmentSpec | undefined): Promise<number> {
    this.assertOpen();
    const contract = await this.local.loader.contractOf(className);
    const creator = requester === 0 ? 'main' : this.poolIds.has(requester) ? 'pool' : 'worker';
    return placeWith(contract.place({ creator, mode, hasMainApartment: true }), requester, {
      assigned: async () => (await this.assignments.assign(assignment ?? this.defaultAssignment, { className, creator: requester })).id,
      freePool: async () => {
        const pool = await this.freePool();
        return pool[this.freeRotation++ % pool.length]!.id;
      },
      host: async () => (await (this.host ??= this.createApartment({ name: 'host' }))).id,
      named: async (name) => (await this.namedApartment(name)).id,
    });
  }

  /**
   * An apartment says nothing in it is referenced any more: a thread-per-object apartment exits
   * now; one with an idle timeout exits once the timeout passes with nothing referenced again.
   */
  private unreferenced(id: number): void {
    const apt = this.registry.get(id);
    if (!apt || apt.state !== 'ready') return;
    const perObject = this.assignments.exitsWhenUnreferenced(apt);
    const idle = this.idleTimeouts.get(apt);
    if (perObject || idle !== undefined) apt.closeWhenUnused(perObject ? 0 : idle!);
  }

  /** The engine has disconnected `apt`: the runtime's own policies (restart, events) follow. */
  private gone(apt: Apartment): void {
    this.idleTimeouts.delete(apt);
    this.assignments.forget(apt);
    this.broker.forget(apt.id);
    this.waits.removeApartment(apt.id);
    if (apt.state === 'faulted') this.emit('apartment-faulted', apt, apt.faultReason!);
    else this.emit('apartment-closed', apt);
    this.restartPlans.gone(apt, this.closing !== undefined);
  }
}
