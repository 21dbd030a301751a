// Transport over a child process's IPC channel, for links between processes, which share no
// memory. The channel is node:child_process's with `serialization: 'advanced'`: every message is
// structured-cloned through v8.serialize, so values keep the fidelity they have between threads
// (Maps, Dates, typed arrays, errors, cycles) but nothing can be moved or shared. One IPC message
// carries one batch: the channel's outbox already gathers what a turn queued into a batch.
// The same IPC channel also carries the process host's own messages (hello, boot); each
// message is a tuple tagged by its first element and each side reads only its own tags.
import type { Serializable } from 'node:child_process';
import { serialize } from 'node:v8';
import type { Batch } from '../protocol.js';
import type { Transferable, Transport, TransportCloseListener, TransportReceiver } from '../transport.js';

/** The tags of the messages a process host and its child exchange over the IPC channel. */
export const IpcTag = {
  /** child → host, once it listens: the boot record may come. */
  Hello: 'apartment:hello',
  /** host → child: [tag, boot record]. */
  Boot: 'apartment:boot',
  /** either way: [tag, batch] for the apartment link. */
  Batch: 'apartment:batch',
} as const;

/** One end of an IPC channel: a ChildProcess in the host, `process` in the child. */
export interface IpcPeer {
  send?: ((message: Serializable, sendHandle?: undefined, options?: undefined, callback?: (error: Error | null) => void) => boolean) | undefined;
  readonly connected?: boolean;
  disconnect?: (() => void) | undefined;
  readonly channel?: { ref(): void; unref(): void } | null | undefined;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'disconnect', listener: () => void): unknown;
}

/** Whether `message` is a tagged IPC message with tag `tag`. */
export function isIpc(message: unknown, tag: string): message is [string, unknown] {
  return Array.isArray(message) && message.length === 2 && message[0] === tag;
}

/**
 * A Transport over an IPC channel. It may be made before its channel exists (the host makes its
 * end before the child runs): sends wait, checked for cloneability at once, until open().
 */
export class IpcTransport implements Transport {
  private peer: IpcPeer | undefined;
  private waiting: Batch[] = [];
  private arrived: unknown[] = [];
  private receiver: TransportReceiver | undefined;
  private onClose: TransportCloseListener | undefined;
  private keepAlive = true;
  private closed = false;

  private readonly message = (message: unknown): void => {
    if (!isIpc(message, IpcTag.Batch) || this.closed) return;
    if (this.receiver) this.receiver(message[1]);
    else this.arrived.push(message[1]);
  };

  private readonly disconnected = (): void => this.end(undefined);

  constructor(peer?: IpcPeer) {
    if (peer) this.open(peer);
  }

  /** Start using `peer`'s channel: batches sent so far leave in order. */
  open(peer: IpcPeer): void {
    if (this.peer || this.closed) return;
    this.peer = peer;
    peer.on('message', this.message);
    peer.on('disconnect', this.disconnected);
    this.applyKeepAlive();
    const waiting = this.waiting;
    this.waiting = [];
    for (const batch of waiting) this.post(batch);
    if (peer.connected === false) this.end(undefined);
  }

  send(batch: Batch, transfer?: readonly Transferable[]): void {
    if (this.closed) return;
    if (transfer && transfer.length > 0) {
      throw new DOMException('objects cannot be moved to another process; an IPC link carries copies only', 'DataCloneError');
    }
    if (!this.peer) {
      // Throws DataCloneError now, as a send would, so the outbox fails only what cannot go.
      serialize(batch);
      this.waiting.push(batch);
      return;
    }
    this.post(batch);
  }

  listen(receiver: TransportReceiver, onClose: TransportCloseListener): void {
    this.receiver = receiver;
    this.onClose = onClose;
    const arrived = this.arrived;
    this.arrived = [];
    for (const data of arrived) receiver(data);
  }

  setKeepAlive(keepAlive: boolean): void {
    this.keepAlive = keepAlive;
    this.applyKeepAlive();
  }

  /** Close this side and disconnect the channel: the other side's close listener fires. */
  close(): void {
    if (this.closed) return;
    const peer = this.peer;
    this.end(undefined);
    if (peer?.connected) peer.disconnect?.();
  }

  private post(batch: Batch): void {
    const peer = this.peer!;
    if (!peer.connected || !peer.send) return;
    // Serialization happens inside send, synchronously: a DataCloneError reaches the caller with
    // nothing sent. A failure to write (the other side just died) arrives in the callback and is
    // left to the disconnect that follows it.
    peer.send([IpcTag.Batch, batch], undefined, undefined, () => undefined);
  }

  private applyKeepAlive(): void {
    const channel = this.peer?.channel;
    if (!channel || this.closed) return;
    if (this.keepAlive) channel.ref();
    else channel.unref();
  }

  private end(cause: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.waiting = [];
    this.arrived = [];
    if (this.peer) {
      this.peer.off('message', this.message);
      this.peer.off('disconnect', this.disconnected);
    }
    this.onClose?.(cause);
  }
}
