// The link kinds built into the runtime, all registered in the thread that imports this module: the
// host's main thread (runtime.ts), which makes links of every kind. An apartment's thread registers
// fewer at once (thread-link-kinds.ts). A new built-in kind is one more registration in one of the
// two.
import { registerLinkKind } from '../apartments/links.js';
import { ipcLink } from '../marshal/transports/ipc-link.js';
import { natsLink } from '../marshal/transports/nats-link.js';
import './thread-link-kinds.js';

registerLinkKind(ipcLink);
registerLinkKind(natsLink);
