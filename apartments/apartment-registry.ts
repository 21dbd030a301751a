// The main apartment's table of live worker apartments and what happens when one goes: the
// engine's own bookkeeping (channels, proxies, the broker's links) and an 'apartment-gone' event
// that features subscribe to at the composition root (leases, named objects, held locks…), so
// the engine never names them. Main apartment only.
import { encodeError } from '../marshal/error-codec.js';
import type { Endpoint } from '../marshal/endpoint.js';
import { Op } from '../marshal/protocol.js';
import type { Apartment } from './apartment.js';
import { isLive } from './apartment-state.js';

/** Told when an apartment has closed or faulted, after the engine disconnected it. */
export type GoneListener = (apartment: Apartment, reason: Error) => void;

/** Live worker apartments by id, and the fan-out when one goes. */
export class ApartmentRegistry {
  private readonly byId = new Map<number, Apartment>();
  private readonly goneListeners: GoneListener[] = [];
  private readonly resetListeners: Array<(apartment: Apartment) => void> = [];

  /** `endpoint` is the main apartment's, read when an apartment goes (it exists by then). */
  constructor(private readonly endpoint: () => Endpoint) {}

  add(apartment: Apartment): void {
    this.byId.set(apartment.id, apartment);
  }

  get(id: number): Apartment | undefined {
    return this.byId.get(id);
  }

  /** Every apartment still in the table (starting, ready or closing). */
  all(): Apartment[] {
    return [...this.byId.values()];
  }

  /** The apartments that serve calls or are about to. */
  live(): Apartment[] {
    return this.all().filter((a) => isLive(a.state));
  }

  /** How messages name apartment `id`. */
  label(id: number): string {
    if (id === 0) return 'the main apartment';
    return this.byId.get(id)?.label ?? `apartment ${id}`;
  }

  /** Labels of every apartment, for a new apartment's boot record. */
  labels(): Record<number, string> {
    const labels: Record<number, string> = { 0: this.label(0) };
    for (const a of this.byId.values()) labels[a.id] = a.label;
    return labels;
  }

  /** Subscribe to apartments going (closed or faulted). */
  onGone(listener: GoneListener): void {
    this.goneListeners.push(listener);
  }

  /** Subscribe to pooled apartments reset for their next owner (the apartment lives on). */
  onReset(listener: (apartment: Apartment) => void): void {
    this.resetListeners.push(listener);
  }

  /** `apartment` was reset on check-in to its pool: tell the subscribers, before its next owner has it. */
  reset(apartment: Apartment): void {
    for (const listener of this.resetListeners) listener(apartment);
  }

  /**
   * `apartment` closed or faulted: forget it, disconnect what the main apartment held of it, tell
   * every other live apartment (PeerGone), then the subscribers.
   */
  gone(apartment: Apartment, reason: Error): void {
    this.byId.delete(apartment.id);
    const endpoint = this.endpoint();
    endpoint.peerGone(apartment.id, reason);
    const wire = encodeError(reason, 0);
    for (const other of this.byId.values()) {
      if (isLive(other.state)) endpoint.channelTo(other.id).post([Op.PeerGone, apartment.id, wire]);
    }
    for (const listener of this.goneListeners) listener(apartment, reason);
  }
}
