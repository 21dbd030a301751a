// The 'nats' link kind: links between the main apartment and an apartment that another node of
// the cluster runs for it (docs/cluster.md), carried as tagged messages [tag, link, batch] over
// the apartment's own NATS session (nats-peer.ts), as the 'ipc' kind is over a child's IPC
// channel. The host's end is made before the apartment's thread listens; the node host claims it
// by the far end's number and opens it on the session once the thread says hello. The apartment's
// thread attaches its ends on the session it holds (nats-worker-session.ts): the first, in its boot
// record, names the session; later ones are links the host relays to other apartments. Nodes
// share no memory and can move nothing: copies only, not direct.
import type { LinkKindDefinition } from '../transport.js';
import type { IpcTransport } from './ipc-transport.js';
import { attachDirect, checkSessionEnd, hasDirectSession, type DirectSessionEnd } from './nats-worker-session.js';
import { UnclaimedEnds } from './unclaimed-ends.js';

/** The far end of a 'nats' link as the apartment's thread receives it; the first names its session. */
export interface NatsEnd {
  readonly nats: number;
  readonly session?: DirectSessionEnd;
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
  checkEnd(value) {
    if (natsLinkNumber(value) === undefined) return 'a { nats: number } end was expected';
    const session = (value as NatsEnd).session;
    if (session !== undefined) return checkSessionEnd(session);
    return hasDirectSession() ? undefined : "this thread holds no session with its host; only an apartment that another node runs for its host attaches 'nats' ends";
  },
  attach: (end) => attachDirect((end as NatsEnd).nats, (end as NatsEnd).session),
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
