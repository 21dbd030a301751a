// The engine's own control services and their interfaces, shared by the side that serves them
// and the side that calls them. Features define theirs beside themselves (lib/); these are what
// every runtime needs whatever features it has.
import type { ApartmentStats } from './apartment-stats.js';
import type { HooksRegistration } from './apartment-hooks.js';
import type { WaitEdge } from './admission.js';
import type { NamedAssignment } from './assignment-names.js';
import type { ClassDescriptor } from './class-table.js';
import type { CreationMode } from './contract.js';
import { controlService } from './control-plane.js';
import type { LogEntry } from './logger.js';
import type { LinkOffer, LinkReply } from './links.js';

/** Creating objects in an apartment (served by every apartment, callable by every apartment). */
export interface ObjectsApi {
  createObject(className: string, args: unknown[]): object;
}
export const ObjectsService = controlService<ObjectsApi>('objects');

/** What the main apartment asks of a worker apartment about itself (main only). */
export interface ApartmentApi {
  stats(): ApartmentStats;
  /** An apartment started after this one: learn its label, so messages here name it (one-way). */
  learnLabel(id: number, label: string): boolean;
  /** A class registered after this apartment started (one-way). */
  registerClass(descriptor: ClassDescriptor): boolean;
  /** The runtime found that this waiting call closes a deadlock cycle: refuse it. */
  breakWait(edgeId: number, message: string): boolean;
  registerHooks(registration: HooksRegistration): void;
  /** Make the apartment as new for its next user (pool checkin). */
  reset(): boolean;
  /** Run detach hooks, acknowledge, then let the host tear the apartment down. */
  close(): boolean;
}
// Broadcasts are one-way: a busy or hung apartment must not hold up creating another apartment
// or registering a class elsewhere; the channel keeps them in order before any later call to it.
export const ApartmentService = controlService<ApartmentApi>('apartment', ['learnLabel', 'registerClass']);

/** What worker apartments ask of the runtime (served by the main apartment). */
export interface RuntimeApi {
  /** A link to `target`: the offered one was passed on, or here is an end of another; null when one is already on its way. */
  connect(target: number, offer: LinkOffer | undefined): LinkReply | null;
  /** The apartment an object of `className` created by the caller should live in. */
  place(className: string, mode: CreationMode, assignment: NamedAssignment | undefined): number;
  /** The caller's exports just dropped to none. */
  unreferenced(): void;
  log(level: LogEntry['level'], message: string, causality: number | undefined): void;
  waitAdded(edge: WaitEdge): void;
  waitRemoved(id: number): void;
}
export const RuntimeService = controlService<RuntimeApi>('runtime', ['unreferenced', 'log', 'waitAdded', 'waitRemoved']);
