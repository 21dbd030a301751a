// The 'ipc-relay' link kind: an apartment on a worker thread of a process server reaches the host
// through the child's main thread, which holds the IPC channel and relays each batch between that
// channel (under the apartment's link number) and a MessagePort to the thread. The thread's end is
// the port; what crosses is what the IPC channel can carry, so the kind says so: copies only, no
// shared memory, nothing moved, and no direct links. Only a process server makes these links.
import { MessagePort } from 'node:worker_threads';
import { InvalidArgumentError } from '../errors.js';
import type { LinkKindDefinition } from '../transport.js';
import { PortTransport } from './port-transport.js';

/** The thread's end of a relayed link, in its boot record. */
export interface IpcRelayEnd {
  readonly relay: MessagePort;
}

/** Links of apartments on threads of a process server, relayed over its IPC channel. */
export const ipcRelayLink: LinkKindDefinition = {
  name: 'ipc-relay',
  direct: false,
  carries: 'bytes',
  sharedMemory: false,
  create() {
    throw new InvalidArgumentError("[process-transport] transport 'ipc-relay' is made by a process server for the apartments on its threads; leave transport out", { parameter: 'transport' });
  },
  checkEnd: (value) => ((value as IpcRelayEnd | null)?.relay instanceof MessagePort ? undefined : 'a { relay: MessagePort } end was expected'),
  attach: (end) => new PortTransport((end as IpcRelayEnd).relay),
};
