// The link kinds an apartment's thread knows (apartment-main.ts imports this module in every worker
// and process apartment). The kinds that link apartments in one process, and the relay to a process
// or node, are registered at once; the kinds of a child's channel to its host ('ipc') and of a
// node's session with a host ('nats') are attached only by a thread started on such a link, so they
// are deferred: apartment-main.ts loads the one its boot record names, and no other thread loads
// their code (a NATS client, byte pipes, frame checks) at all.
import { deferLinkKind, registerLinkKind } from '../apartments/links.js';
import { ipcRelayLink } from '../marshal/transports/ipc-relay-link.js';
import { portLink } from '../marshal/transports/port-link.js';
import { sharedMemoryLink } from '../marshal/transports/shared-memory-link.js';

registerLinkKind(portLink);
registerLinkKind(sharedMemoryLink);
registerLinkKind(ipcRelayLink);
deferLinkKind('ipc', async () => (await import('../marshal/transports/ipc-link.js')).ipcLink);
deferLinkKind('nats', async () => (await import('../marshal/transports/nats-link.js')).natsLink);
