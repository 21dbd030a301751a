// Brokering of direct channels between worker apartments: the first time one apartment needs
// another, the main apartment makes a MessageChannel and hands one end to each, so calls between
// workers never pass through the main thread. Main apartment only.
import { MessageChannel } from 'node:worker_threads';
import { DisconnectedError } from '../marshal/errors.js';
import { transfer } from '../marshal/by-ref.js';
import type { Endpoint } from '../marshal/endpoint.js';
import type { SharedRingHandle } from '../marshal/transports/shared-ring-transport.js';
import { Op } from '../marshal/protocol.js';
import type { Apartment } from './apartment.js';
import { isLive } from './apartment-state.js';

/** Hands out one direct channel per pair of live worker apartments. */
export class ConnectionBroker {
  private readonly brokered = new Set<string>();

  constructor(
    private readonly endpoint: Endpoint,
    private readonly apartment: (id: number) => Apartment | undefined,
    private readonly label: (id: number) => string,
  ) {}

  /**
   * Link `requester` to `target`. With a shared-memory `offer` from the requester and a target that
   * uses shared memory too, the offer goes to the target ({ accepted: true }); otherwise the requester
   * gets a port. Null when the pair's link is already on its way.
   */
  connect(requester: number, target: number, offer?: { end: SharedRingHandle }): { port?: unknown; accepted?: boolean } | null {
    const peer = this.apartment(target);
    if (target === requester || target === 0 || !peer || !isLive(peer.state)) {
      throw new DisconnectedError(`[apartment-gone] ${this.label(target)} is closed or unknown; its objects cannot be reached`);
    }
    const key = requester < target ? `${requester}:${target}` : `${target}:${requester}`;
    if (this.brokered.has(key)) return null;
    this.brokered.add(key);
    if (offer && peer.transport === 'shared-memory') {
      this.endpoint.channelTo(target).post([Op.Connect, requester, offer.end], [offer.end.port]);
      return { accepted: true };
    }
    const { port1, port2 } = new MessageChannel();
    this.endpoint.channelTo(target).post([Op.Connect, requester, port2], [port2]);
    return transfer({ port: port1 }, [port1]);
  }

  /** An apartment is gone: its pairs may be brokered again should its id ever be seen. */
  forget(id: number): void {
    for (const key of [...this.brokered]) {
      const [a, b] = key.split(':').map(Number);
      if (a === id || b === id) this.brokered.delete(key);
    }
  }
}
