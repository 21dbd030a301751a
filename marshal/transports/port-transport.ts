// Transport over a worker_threads MessagePort: one postMessage per batch.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { Batch } from '../protocol.js';
import type { Transferable, Transport, TransportCloseListener, TransportReceiver } from '../transport.js';

/** A Transport backed by one end of a MessageChannel (or a Worker's own port). */
export class PortTransport implements Transport {
  private closed = false;
  private receiver: TransportReceiver | undefined;
  constructor(private readonly port: MessagePort) {}

  send(batch: Batch, transfer?: readonly Transferable[]): void {
    if (this.closed) return;
    this.port.postMessage(batch, transfer as Transferable[] | undefined);
  }

  listen(receiver: TransportReceiver, onClose: TransportCloseListener): void {
    this.receiver = receiver;
    this.port.on('message', receiver);
    this.port.once('close', () => {
      this.closed = true;
      onClose();
    });
  }

  setKeepAlive(keepAlive: boolean): void {
    if (keepAlive) this.port.ref();
    else this.port.unref();
  }

  /** Transport contract: what is queued on the port goes to the receiver now (taken off the port, it is not emitted again). */
  deliverArrived(): void {
    for (let m = this.receiver && receiveMessageOnPort(this.port); m && !this.closed; m = receiveMessageOnPort(this.port)) this.receiver!(m.message);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.close();
  }
}
