// Brokering of direct links between worker apartments: the first time one apartment needs another,
// the main apartment sees that both get one end of a link, so calls between workers never pass
// through the main thread. Which link the pair gets is read from the two apartments' link kinds,
// never from their names. Main apartment only.
import { DisconnectedError } from '../marshal/errors.js';
import { transfer } from '../marshal/by-ref.js';
import type { Endpoint } from '../marshal/endpoint.js';
import { Op } from '../marshal/protocol.js';
import type { LinkKindDefinition, LinkTraits, Transferable } from '../marshal/transport.js';
import type { Apartment } from './apartment.js';
import { isLive } from './apartment-state.js';
import { linkKind, type LinkOffer, type LinkReply } from './links.js';

/** An offer whose kind was looked up: a link of the requester's kind, made by the requester. */
interface Offer {
  readonly kind: LinkKindDefinition;
  readonly end: unknown;
  readonly transfer: Transferable[];
}

/** Hands out one direct link per pair of live worker apartments. */
export class ConnectionBroker {
  private readonly brokered = new Set<string>();

  constructor(
    private readonly endpoint: Endpoint,
    private readonly apartment: (id: number) => Apartment | undefined,
    private readonly label: (id: number) => string,
  ) {}

  /**
   * Link `requester` to `target`. In order of preference: the requester's offer when the target
   * uses the same kind; a pair of the target's kind when the broker can make one; the requester's
   * offer otherwise. An end travels to an apartment only over a host link that can carry it. Null
   * when the pair's link is already on its way; DisconnectedError when no direct link can be made.
   */
  connect(requester: number, target: number, offered: LinkOffer | undefined): LinkReply | null {
    const peer = this.apartment(target);
    if (target === requester || target === 0 || !peer || !isLive(peer.state)) {
      throw new DisconnectedError(`[apartment-gone] ${this.label(target)} is closed or unknown; its objects cannot be reached`);
    }
    const own = this.apartment(requester);
    const key = requester < target ? `${requester}:${target}` : `${target}:${requester}`;
    if (this.brokered.has(key)) return null;
    const theirs = peer.link;
    const offer: Offer | undefined = offered && { ...offered, kind: linkKind(offered.kind, 'offer.kind') };
    if (own && own.link.direct && theirs.direct) {
      if (offer && offer.kind === theirs && carries(theirs, offer.kind, offer.transfer)) return this.forward(key, requester, target, offer);
      const pair = theirs.pair && carries(theirs, theirs, []) && carries(own.link, theirs, []) ? theirs.pair() : undefined;
      if (pair) {
        this.brokered.add(key);
        this.endpoint.channelTo(target).post([Op.Connect, requester, theirs.name, pair[1].end], pair[1].transfer);
        return transfer({ kind: theirs.name, end: pair[0].end }, pair[0].transfer);
      }
      if (offer && carries(theirs, offer.kind, offer.transfer)) return this.forward(key, requester, target, offer);
    }
    throw new DisconnectedError(`[no-direct-link] ${this.label(requester)} ('${own?.link.name ?? 'unknown'}' links) and ${this.label(target)} ('${theirs.name}' links) cannot be linked directly; create objects that call each other in apartments whose link kinds can link directly`);
  }

  /** An apartment is gone: its pairs may be brokered again should its id ever be seen. */
  forget(id: number): void {
    for (const key of [...this.brokered]) {
      const [a, b] = key.split(':').map(Number);
      if (a === id || b === id) this.brokered.delete(key);
    }
  }

  private forward(key: string, requester: number, target: number, offer: Offer): LinkReply {
    this.brokered.add(key);
    this.endpoint.channelTo(target).post([Op.Connect, requester, offer.kind.name, offer.end], offer.transfer);
    return { accepted: true };
  }
}

/**
 * Whether an end of `kind` (moving `moved`) can travel over a host link of kind `via`: ends of a
 * kind that shares memory need a link that shares memory, and ends that may move objects (those of
 * a 'clone' kind, or any that lists transfers) need a link that carries structured clones.
 */
function carries(via: LinkTraits, kind: LinkTraits, moved: readonly Transferable[]): boolean {
  if (kind.sharedMemory && !via.sharedMemory) return false;
  return via.carries === 'clone' || (moved.length === 0 && kind.carries === 'bytes');
}
