// The 'nats' link kind: the link between the main apartment and an apartment that another node of
// the cluster runs for it (docs/cluster.md), carried as tagged messages [tag, link, batch] over the
// node pair's NATS session (nats-peer.ts), one link number per apartment, as the 'ipc' kind is over
// a child's IPC channel. The host's end is made before the other node answers; the node host claims
// it by the far end's number and opens it on the session. On the other node the link ends on its
// main thread, which relays it to the apartment's thread (lib/process-threads.ts), so no thread
// attaches a 'nats' end itself. Nodes share no memory and can move nothing: copies only, not direct.
import type { LinkKindDefinition } from '../transport.js';
import type { IpcTransport } from './ipc-transport.js';
import { UnclaimedEnds } from './unclaimed-ends.js';

/** The far end of a 'nats' link as the other node receives it. */
export interface NatsEnd {
  readonly nats: number;
}

/** Host ends made and not yet claimed by a node host. */
const unclaimed = new UnclaimedEnds();

/** Links over a NATS session between two nodes: v8 serialization, no shared memory, not direct. */
export const natsLink: LinkKindDefinition = {
  name: 'nats',
  direct: false,
  carries: 'bytes',
  sharedMemory: false,
  create() {
    const { number, near } = unclaimed.make();
    const far: NatsEnd = { nats: number };
    return { near, far, transfer: [] };
  },
  checkEnd: () => "a 'nats' link ends on a node's main thread, which relays it to the apartment's thread; no apartment attaches one",
  attach() {
    throw new Error("[nats-link] a 'nats' end cannot be attached by an apartment");
  },
};

/** The number of the 'nats' link whose far end is `end`, or undefined when `end` is not one. */
export function natsLinkNumber(end: unknown): number | undefined {
  const id = (end as NatsEnd | null)?.nats;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** The host's end of the 'nats' link whose far end is `far`, once; undefined when there is none. */
export function claimNatsEnd(far: unknown): IpcTransport | undefined {
  return unclaimed.claim(natsLinkNumber(far));
}
