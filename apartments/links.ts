// How two apartments are linked: a MessagePort, or the shared-memory ring (with its companion
// port). A link travels to the other thread as a structured-cloneable value plus a transfer list,
// and becomes a Transport where it arrives.
import { MessageChannel, MessagePort } from 'node:worker_threads';
import { InvalidArgumentError } from '../marshal/errors.js';
import { PortTransport } from '../marshal/transports/port-transport.js';
import { SharedRingTransport, type SharedRingHandle } from '../marshal/transports/shared-ring-transport.js';
import type { Transferable, Transport } from '../marshal/transport.js';

/** Which transport an apartment's links use. */
export type LinkKind = 'port' | 'shared-memory';

/** The far end of a link, as it is sent to the other apartment. */
export type LinkEnd = MessagePort | SharedRingHandle;

/** Check a link kind from user options. */
export function checkLinkKind(kind: unknown): LinkKind {
  if (kind !== 'port' && kind !== 'shared-memory') {
    throw new InvalidArgumentError(`[transport] transport must be 'port' or 'shared-memory'; got ${String(kind)}`, { parameter: 'transport' });
  }
  return kind;
}

/** Make a link: this side's transport, and the end (with what to transfer) for the other side. */
export function createLink(kind: LinkKind): { near: Transport; far: LinkEnd; transfer: Transferable[] } {
  if (kind === 'shared-memory') {
    const { transport, handle } = SharedRingTransport.create();
    return { near: transport, far: handle, transfer: [handle.port] };
  }
  const { port1, port2 } = new MessageChannel();
  return { near: new PortTransport(port1), far: port2, transfer: [port2] };
}

/** Turn a link end that arrived from another apartment into a transport. */
export function attachLink(end: unknown): Transport {
  if (end instanceof MessagePort) return new PortTransport(end);
  return SharedRingTransport.attach(end as SharedRingHandle);
}
