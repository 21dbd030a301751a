// Transport over a child process's IPC channel, for links between processes, which share no
// memory. The channel is node:child_process's with `serialization: 'advanced'`: every message is
// structured-cloned through v8.serialize, so values keep the fidelity they have between threads
// (Maps, Dates, typed arrays, errors, cycles) but nothing can be moved or shared. One IPC message
// carries one batch: the channel's outbox already gathers what a turn queued into a batch.
// One IPC channel carries the links of every apartment of a process server, each under its link
// number, and the process host's own messages (hello, boot, exit, terminate); each message is a
// tuple [tag, link, payload] and each side reads only its own tags and links.
import type { Serializable } from 'node:child_process';
import { serialize } from 'node:v8';
import type { Batch } from '../protocol.js';
import type { Transferable, Transport, TransportCloseListener, TransportReceiver } from '../transport.js';

/** The tags of the messages a process host and its child exchange over the IPC channel. */
export const IpcTag = {
  /** child → host, once it listens: boot records may come. */
  Hello: 'apartment:hello',
  /** host → child: [tag, link, { boot, resourceLimits }], one per apartment of the process. */
  Boot: 'apartment:boot',
  /** either way: [tag, link, batch] for the apartment link `link`. */
  Batch: 'apartment:batch',
  /** either way: [tag, link, null]: this side closed link `link`. */
  Close: 'apartment:close',
  /** host → child: [tag, link, null]: end the apartment of link `link` now. */
  Terminate: 'apartment:terminate',
  /** child → host: [tag, link, { code, description }]: the apartment of link `link` ended. */
  Exited: 'apartment:exited',
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

/** Whether `message` is a tagged IPC message [tag, link, payload] with tag `tag`. */
export function isIpc(message: unknown, tag: string): message is [string, number, unknown] {
  return Array.isArray(message) && message.length === 3 && message[0] === tag && typeof message[1] === 'number';
}

/**
 * A Transport for link `link` over an IPC channel. It may be made before its channel exists (the
 * host makes its end before the child runs): sends wait, checked for cloneability at once, until
 * open(). Closing it closes only its link; the channel is the process host's to end.
 */
export class IpcTransport implements Transport {
  private peer: IpcPeer | undefined;
  private waiting: Batch[] = [];
  private arrived: unknown[] = [];
  private receiver: TransportReceiver | undefined;
  private onClose: TransportCloseListener | undefined;
  private closed = false;

  /** A message of this link that arrived before the transport was made (ipc-link.ts keeps those). */
  deliver(message: unknown): void {
    this.message(message);
  }

  private readonly message = (message: unknown): void => {
    if (this.closed || !Array.isArray(message) || message[1] !== this.link) return;
    if (isIpc(message, IpcTag.Close)) return this.end(undefined);
    if (!isIpc(message, IpcTag.Batch)) return;
    if (this.receiver) this.receiver(message[2]);
    else this.arrived.push(message[2]);
  };

  private readonly disconnected = (): void => this.end(undefined);

  constructor(readonly link: number, peer?: IpcPeer) {
    if (peer) this.open(peer);
  }

  /** Start using `peer`'s channel: batches sent so far leave in order. */
  open(peer: IpcPeer): void {
    if (this.peer || this.closed) return;
    this.peer = peer;
    peer.on('message', this.message);
    peer.on('disconnect', this.disconnected);
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

  /** Nothing to do: the channel is shared by every link of the process, and its host keeps it alive. */
  setKeepAlive(): void {}

  /** Close this side's link: the other side's close listener fires; the channel stays. */
  close(): void {
    if (this.closed) return;
    const peer = this.peer;
    this.end(undefined);
    if (peer?.connected) peer.send?.([IpcTag.Close, this.link, null], undefined, undefined, () => undefined);
  }

  private post(batch: Batch): void {
    const peer = this.peer!;
    if (!peer.connected || !peer.send) return;
    // Serialization happens inside send, synchronously: a DataCloneError reaches the caller with
    // nothing sent. A failure to write (the other side just died) arrives in the callback and is
    // left to the disconnect that follows it.
    peer.send([IpcTag.Batch, this.link, batch], undefined, undefined, () => undefined);
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
