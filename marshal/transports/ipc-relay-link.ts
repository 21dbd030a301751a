// The 'ipc-relay' link kind: a link whose other side is in another process, relayed by a thread
// that holds the way there. An apartment on a worker thread of a process server reaches the host
// through the child's main thread, which relays each batch between the IPC channel (under the
// apartment's link number) and a MessagePort to the thread; a worker apartment of the host reaches
// a process apartment through the host's main thread (apartments/broker.ts). The thread's end is
// the port; what crosses is what the IPC channel can carry, so the kind says so: copies only, no
// shared memory, nothing moved, and no direct links. Only the runtime makes these links.
import { MessagePort } from 'node:worker_threads';
import { InvalidArgumentError } from '../errors.js';
import type { Batch } from '../protocol.js';
import type { LinkKindDefinition, Transferable, TransportCloseListener, TransportReceiver } from '../transport.js';
import { checkFrame, MAX_ENCODED_BATCH } from './frame-check.js';
import { PortTransport } from './port-transport.js';
import { WireEncoder } from './wire-serializer.js';

/** The thread's end of a relayed link, in its boot record. */
export interface IpcRelayEnd {
  readonly relay: MessagePort;
  /**
   * Where the thread counts the batches it took off `relay` (an Int32, wrapping), when the near end
   * bounds what waits for it (credited-port-transport.ts).
   */
  readonly taken?: SharedArrayBuffer;
}

/** Why `value` is not a relayed link's end, or undefined. */
function relayEndProblem(value: unknown): string | undefined {
  const end = value as Partial<IpcRelayEnd> | null;
  if (!(end?.relay instanceof MessagePort)) return 'a { relay: MessagePort } end was expected';
  if (end.taken !== undefined && !(end.taken instanceof SharedArrayBuffer && end.taken.byteLength >= 4)) return "the end's taken count is not shared memory";
  return undefined;
}

/** Links of apartments on threads of a process server, relayed over its IPC channel. */
export const ipcRelayLink: LinkKindDefinition = {
  name: 'ipc-relay',
  direct: false,
  carries: 'bytes',
  sharedMemory: false,
  create() {
    throw new InvalidArgumentError("[process-transport] transport 'ipc-relay' is made by the runtime for links it relays to another process; leave transport out", { parameter: 'transport' });
  },
  checkEnd: relayEndProblem,
  attach: (end) => new RelayedPortTransport((end as IpcRelayEnd).relay, (end as IpcRelayEnd).taken),
};

const encoder = new WireEncoder();

/**
 * The thread's end of a relayed link. What it sends crosses a process channel further on, whose
 * frames are bounded (pipe-channel.ts): a batch too large for one is refused here, where the
 * channel fails only the calls in it, and not by the relaying thread, which could only drop it and
 * leave those calls unanswered. A batch the wire encoder takes is well under the bound.
 */
class RelayedPortTransport extends PortTransport {
  private readonly taken: Int32Array | undefined;

  constructor(port: MessagePort, taken: SharedArrayBuffer | undefined) {
    super(port);
    this.taken = taken && new Int32Array(taken, 0, 1);
  }

  /** Each batch taken off the port is counted first, so the near end can post more. */
  override listen(receiver: TransportReceiver, onClose: TransportCloseListener): void {
    const taken = this.taken;
    super.listen(taken ? (batch) => {
      Atomics.add(taken, 0, 1);
      receiver(batch);
    } : receiver, onClose);
  }

  override send(batch: Batch, transfer?: readonly Transferable[]): void {
    if (encoder.encode(batch, MAX_ENCODED_BATCH) <= 0) checkFrame(process.getBuiltinModule('node:v8').serialize(batch));
    super.send(batch, transfer);
  }
}
