// The transport contract: moves batches of messages between two apartments, in order. The
// implementations live in transports/: a MessagePort (port-transport.ts), the shared-memory ring
// (shared-ring-transport.ts), and an in-memory pair for marshal unit specs (memory-transport.ts).
import type { TransferListItem } from 'node:worker_threads';
import type { Batch } from './protocol.js';

/** Something a send may move instead of copy: ArrayBuffer, MessagePort, … */
export type Transferable = TransferListItem;

/** Receives every batch that arrives, as raw data: the channel validates it before use. */
export type TransportReceiver = (data: unknown) => void;

/** Told once when the other end is gone or the transport was closed; `cause` says why when known. */
export type TransportCloseListener = (cause?: unknown) => void;

/** A bidirectional, ordered, batch-oriented link to one peer apartment. */
export interface Transport {
  /**
   * Send one batch. Throws synchronously (DataCloneError) when a value cannot be cloned, in which
   * case nothing of the batch was sent. `transfer` lists objects moved rather than copied.
   */
  send(batch: Batch, transfer?: readonly Transferable[]): void;
  /** Install the receiver; batches that arrived earlier are delivered to it in order. */
  listen(receiver: TransportReceiver, onClose: TransportCloseListener): void;
  /** Let (or stop letting) this transport alone keep the thread alive. */
  setKeepAlive(keepAlive: boolean): void;
  /** Close both directions; the peer's close listener fires. Idempotent. */
  close(): void;
}
