// The link kinds built into the runtime, registered in the thread that imports this module. Both
// composition roots import it (runtime.ts for the host's main thread, apartment-main.ts for every
// worker and process apartment), so every thread knows the same built-in kinds. A new built-in kind is one
// more registration here.
import { registerLinkKind } from '../apartments/links.js';
import { ipcLink } from '../marshal/transports/ipc-link.js';
import { ipcRelayLink } from '../marshal/transports/ipc-relay-link.js';
import { natsLink } from '../marshal/transports/nats-link.js';
import { portLink } from '../marshal/transports/port-link.js';
import { sharedMemoryLink } from '../marshal/transports/shared-memory-link.js';

registerLinkKind(portLink);
registerLinkKind(sharedMemoryLink);
registerLinkKind(ipcLink);
registerLinkKind(ipcRelayLink);
registerLinkKind(natsLink);
