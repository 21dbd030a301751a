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
}

/** Whether `message` is a tagged IPC message [tag, link, payload] with tag `tag`. */
export function isIpc(message: unknown, tag: string): message is [string, number, unknown] {
  return Array.isArray(message) && message.length === 3 && message[0] === tag && typeof message[1] === 'number';
}

/**
 * The open links of each IPC channel, and the one listener per channel that hands each message to
 * its link: a process server's channel carries many links, and a listener each would be looked up
 * by every message (and trip Node's listener-leak warning past ten).
 */
const channelLinks = new WeakMap<IpcPeer, Map<number, IpcTransport>>();

function joinChannel(peer: IpcPeer, transport: IpcTransport): void {
  let links = channelLinks.get(peer);
  if (!links) {
    const open = new Map<number, IpcTransport>();
    links = open;
    channelLinks.set(peer, open);
    peer.on('message', (message) => {
      if (Array.isArray(message) && typeof message[1] === 'number') open.get(message[1])?.deliver(message);
    });
    peer.on('disconnect', () => {
      for (const link of [...open.values()]) link.deliver(DISCONNECTED);
    });
  }
  links.set(transport.link, transport);
}

function leaveChannel(peer: IpcPeer, transport: IpcTransport): void {
  const links = channelLinks.get(peer);
  if (links?.get(transport.link) === transport) links.delete(transport.link);
}

/** What a link is handed when its channel disconnects. */
const DISCONNECTED = Symbol('disconnected');

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

  constructor(readonly link: number, peer?: IpcPeer) {
    if (peer) this.open(peer);
  }

  /**
   * A message of this link from its channel, or one that arrived before the transport was made
   * (ipc-link.ts keeps those); the channel's disconnect ends the link.
   */
  deliver(message: unknown): void {
    if (this.closed) return;
    if (message === DISCONNECTED) return this.end(undefined);
    if (!Array.isArray(message) || message[1] !== this.link) return;
    if (isIpc(message, IpcTag.Close)) return this.end(undefined);
    if (!isIpc(message, IpcTag.Batch)) return;
    if (this.receiver) this.receiver(message[2]);
    else this.arrived.push(message[2]);
  }

  /** Start using `peer`'s channel: batches sent so far leave in order. */
  open(peer: IpcPeer): void {
    if (this.peer || this.closed) return;
    this.peer = peer;
    joinChannel(peer, this);
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
    if (this.peer) leaveChannel(this.peer, this);
    this.onClose?.(cause);
  }
}
