// The 'ipc-relay' link kind: a link whose other side is in another process, relayed by a thread
// that holds the way there. An apartment on a worker thread of a process server reaches the host
// through the child's main thread, which relays each batch between the IPC channel (under the
// apartment's link number) and the thread; a worker apartment of the host reaches a process
// apartment through the host's main thread (apartments/broker.ts). The thread's end is a
// shared-memory ring pair to the relaying thread (the hot link to its host: a ring hop costs far less
// than a MessagePort's) or a MessagePort (further relayed links); what crosses is what the IPC
// channel can carry, so the kind says so: copies only, no shared memory, nothing moved, and no
// direct links. Only the runtime makes these links.
import { MessagePort } from 'node:worker_threads';
import { InvalidArgumentError } from '../errors.js';
import type { LinkKindDefinition } from '../transport.js';
import { PortTransport } from './port-transport.js';
import { sharedMemoryLink } from './shared-memory-link.js';
import { SharedRingTransport, type SharedRingHandle } from './shared-ring-transport.js';

/** The thread's end of a relayed link, in its boot record or a Connect message: a ring or a port. */
export type IpcRelayEnd = { readonly relay: MessagePort } | { readonly ring: SharedRingHandle };

/** Links of apartments on threads of a process server, relayed over its IPC channel. */
export const ipcRelayLink: LinkKindDefinition = {
  name: 'ipc-relay',
  direct: false,
  carries: 'bytes',
  sharedMemory: false,
  create() {
    throw new InvalidArgumentError("[process-transport] transport 'ipc-relay' is made by the runtime for links it relays to another process; leave transport out", { parameter: 'transport' });
  },
  checkEnd(value) {
    const end = value as { relay?: unknown; ring?: unknown } | null;
    if (end?.relay instanceof MessagePort) return undefined;
    if (end?.ring === undefined) return 'a { relay: MessagePort } or { ring } end was expected';
    return sharedMemoryLink.checkEnd(end.ring);
  },
  attach: (end) => ('ring' in (end as IpcRelayEnd) ? SharedRingTransport.attach((end as { ring: SharedRingHandle }).ring) : new PortTransport((end as { relay: MessagePort }).relay)),
};
