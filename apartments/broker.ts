// Brokering of direct links between worker apartments: the first time one apartment needs another,
// the main apartment sees that both get one end of a link, so calls between workers never pass
// through the main thread. Which link the pair gets is read from the two apartments' link kinds,
// never from their names. A pair that cannot be linked directly (an apartment in another process)
// is relayed through the main thread instead, over links their hosts make. Main apartment only.
import { DisconnectedError } from '../marshal/errors.js';
import { transfer } from '../marshal/by-ref.js';
import type { Endpoint } from '../marshal/endpoint.js';
import { Op } from '../marshal/protocol.js';
import type { Batch } from '../marshal/protocol.js';
import type { LinkKindDefinition, LinkTraits, Transferable, Transport } from '../marshal/transport.js';
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
  /** The near ends of the relayed pairs, by pair. */
  private readonly relays = new Map<string, [Transport, Transport]>();

  constructor(
    private readonly endpoint: Endpoint,
    private readonly apartment: (id: number) => Apartment | undefined,
    private readonly label: (id: number) => string,
    private readonly warn: (message: string) => void,
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
    // Both ends of a relayed link go out as Connect messages: null tells the requester its end is on its way.
    if (own && this.relay(key, own, peer)) return null;
    throw new DisconnectedError(`[no-direct-link] ${this.label(requester)} ('${own?.link.name ?? 'unknown'}' links) and ${this.label(target)} ('${theirs.name}' links) cannot be linked directly; create objects that call each other in apartments whose link kinds can link directly`);
  }

  /** An apartment is gone: its pairs may be brokered again should its id ever be seen, and its relays close. */
  forget(id: number): void {
    for (const key of [...this.brokered]) {
      const [a, b] = key.split(':').map(Number);
      if (a !== id && b !== id) continue;
      this.brokered.delete(key);
      for (const near of this.relays.get(key) ?? []) near.close();
      this.relays.delete(key);
    }
  }

  /**
   * Link two apartments that cannot be linked directly (one of them in another process) through
   * this thread: each gets a new link from its host, and what arrives on one goes out on the other
   * as it is; the receiving apartment checks it as it checks everything a peer sends. Each end goes
   * to its apartment in a Connect message, which a process server can rewrite on its way to a later
   * thread (lib/process-threads.ts). False when a host cannot make such a link.
   */
  private relay(key: string, own: Apartment, peer: Apartment): boolean {
    const mine = own.relayEnd();
    const theirs = mine && peer.relayEnd();
    if (!mine || !theirs || !carries(own.link, linkKind(mine.kind), mine.transfer) || !carries(peer.link, linkKind(theirs.kind), theirs.transfer)) {
      mine?.near.close();
      theirs?.near.close();
      return false;
    }
    this.brokered.add(key);
    const ends: [Transport, Transport] = [mine.near, theirs.near];
    this.relays.set(key, ends);
    const warn = (from: Apartment, to: Apartment, err: unknown): void =>
      this.warn(`[relay] a batch from ${from.label} could not go on to ${to.label}: ${(err as Error)?.message ?? String(err)}; their link is closed`);
    // A relay closed while both apartments live (a batch one side could not take) may be made
    // again: the next reference either side is handed asks for a link anew, and must not wait
    // for this one, which is gone.
    const closed = (): void => {
      if (this.relays.get(key) !== ends) return;
      this.relays.delete(key);
      this.brokered.delete(key);
    };
    pipe(mine.near, theirs.near, (err) => warn(own, peer, err), closed);
    pipe(theirs.near, mine.near, (err) => warn(peer, own, err), closed);
    this.endpoint.channelTo(peer.id).post([Op.Connect, own.id, theirs.kind, theirs.end], theirs.transfer);
    this.endpoint.channelTo(own.id).post([Op.Connect, peer.id, mine.kind, mine.end], mine.transfer);
    return true;
  }

  private forward(key: string, requester: number, target: number, offer: Offer): LinkReply {
    this.brokered.add(key);
    this.endpoint.channelTo(target).post([Op.Connect, requester, offer.kind.name, offer.end], offer.transfer);
    return { accepted: true };
  }
}

/** Send what arrives on `from` out on `to`; either side closing closes the other, as does a batch `to` cannot take. */
function pipe(from: Transport, to: Transport, refused: (err: unknown) => void, closed: () => void): void {
  from.listen((batch) => {
    try {
      to.send(batch as Batch);
    } catch (err) {
      refused(err);
      from.close();
      to.close();
      closed();
    }
  }, () => {
    to.close();
    closed();
  });
  // A relay keeps nothing alive: the apartments at its ends do, while they are busy.
  from.setKeepAlive(false);
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
