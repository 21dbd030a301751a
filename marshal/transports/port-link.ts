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
  // A clone writes a large buffer into fresh message memory and reads it out into more (measured: a
  // 64 KiB echo 3-4x slower than a moved copy); below 32 KiB the two are alike.
  moveCopiesFrom: 32 * 1024,
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
