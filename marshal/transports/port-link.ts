// The 'port' link kind: a MessageChannel between the two sides, one postMessage per batch.
import { MessageChannel, MessagePort } from 'node:worker_threads';
import type { LinkKindDefinition } from '../transport.js';
import { PortTransport } from './port-transport.js';

/** Links over MessagePorts: structured clone, same process, memory shared. */
export const portLink: LinkKindDefinition = {
  name: 'port',
  direct: true,
  carries: 'clone',
  sharedMemory: true,
  create() {
    const { port1, port2 } = new MessageChannel();
    return { near: new PortTransport(port1), far: port2, transfer: [port2] };
  },
  pair() {
    const { port1, port2 } = new MessageChannel();
    return [{ end: port1, transfer: [port1] }, { end: port2, transfer: [port2] }];
  },
  checkEnd: (value) => (value instanceof MessagePort ? undefined : 'a MessagePort was expected'),
  attach: (end) => new PortTransport(end as MessagePort),
};
