// The features the host's composition root plugs into the main apartment: shared resources,
// named objects and create-once values, the global interface table, rental leases and script
// interrupts. Each serves its control service here and drops what a gone apartment held; the
// engine knows none of them by name.
import type { Apartment } from '../apartments/apartment.js';
import type { ApartmentRegistry } from '../apartments/apartment-registry.js';
import { isLive } from '../apartments/apartment-state.js';
import type { LocalApartment } from '../apartments/local-apartment.js';
import { serveInterfaceTable, type InterfaceTable } from './interface-table.js';
import { RentalRegistry } from './rental.js';
import { InterruptService } from './script-engine/interrupt-service.js';
import { ScriptApartmentService, serveScript } from './script-engine/script-service.js';
import { deadThreadTable, threadEnded } from './shared-state/dead-threads.js';
import { forgetHeldLocks } from './shared-state/lock-order.js';
import { MirroredLocks } from './shared-state/mirrored-locks.js';
import { NamedRegistry } from './shared-state/named-registry.js';
import { serveNamed } from './shared-state/named-service.js';
import { SharedResourceRegistry, serveSharedResources } from './shared-resources.js';
import { installApartmentFeatures } from './worker-features.js';

/** The features' state the runtime facade reads (owned by the main apartment). */
export interface HostFeatures {
  readonly shared: SharedResourceRegistry;
  readonly named: NamedRegistry;
  readonly interrupts: InterruptService;
  readonly interfaceTable: InterfaceTable;
  /** The runtime closed: the main thread holds no locks, leases nothing more, and every shared resource is disposed once this settles. */
  close(): Promise<void>;
}

/** Plug the host's features into the main apartment `local`. */
export function installHostFeatures(local: LocalApartment, registry: ApartmentRegistry, warn: (message: string) => void): HostFeatures {
  const isLiveApartment = (id: number): boolean => {
    if (id === 0) return true;
    const apt = registry.get(id);
    return apt !== undefined && isLive(apt.state);
  };
  const shared = new SharedResourceRegistry(warn, isLiveApartment, local.defaultTimeoutMs);
  const named = new NamedRegistry(local.defaultTimeoutMs);
  const rentals = new RentalRegistry((id) => registry.label(id));
  const interrupts = new InterruptService((id) => local.controlOf(id, ScriptApartmentService));
  serveSharedResources(local.control, shared);
  const mirroredLocks = new MirroredLocks(named, isLiveApartment, warn);
  serveNamed(local.control, named, mirroredLocks);
  const interfaceTable = serveInterfaceTable(local.control, (proxy) => local.marshalTable.marshal(proxy, 'normal'));
  serveScript(local.control, (apartment, oid, grant, caller) => {
    const apt: Apartment | undefined = registry.get(apartment);
    if (!apt || !isLive(apt.state)) return Promise.resolve(false);
    return interrupts.interrupt(apt, oid, caller.role === 'main' ? undefined : grant);
  });
  installApartmentFeatures(local);
  local.loader.makeLeaseHandle = (loaded, args) => rentals.create(loaded.descriptor.name, args);
  /** Everything kept here in `apartment`'s name: what it holds, leases, waits for or registered; `why` it goes. */
  const dropKept = (apartment: number, why: 'ended' | 'reset'): void => {
    shared.dropApartment(apartment);
    rentals.dropApartment(apartment);
    named.dropApartment(apartment);
    mirroredLocks.dropApartment(apartment, why);
    interfaceTable.dropApartment(apartment);
  };
  registry.onGone((apt) => {
    dropKept(apt.id, 'ended');
    // Its threads can release no lock any more: drop what the lock hierarchy recorded for them.
    forgetHeldLocks(apt.id);
    // Its turns on shared mutexes pass on once its thread has exited (not before: it may still run).
    const thread = apt.threadId;
    if (thread !== undefined) void apt.hostEnded.then(() => threadEnded(thread));
  });
  // A pooled apartment reset for its next owner revoked every token it had: its entries in the
  // global interface table go, or they would count against its quota for every owner after. So
  // does all else kept here in its name: its runtime gives back only what it knows it took, and a
  // plugin calling the services directly left leases, named handles and named locks (others
  // waiting on them for good) to the next owner, who could even release them.
  registry.onReset((apt) => dropKept(apt.id, 'reset'));
  const close = (): Promise<void> => {
    forgetHeldLocks(0);
    return shared.close();
  };
  return { shared, named, interrupts, interfaceTable, close };
}

/** What the host's features hand a worker apartment at boot, given whether its link shares memory. */
export function hostBootFeatures(sharedMemory: boolean): Readonly<Record<string, unknown>> {
  // Which threads have ended, for SharedMutex: only a thread that shares this process's memory uses it.
  return sharedMemory ? { deadThreads: deadThreadTable() } : {};
}
