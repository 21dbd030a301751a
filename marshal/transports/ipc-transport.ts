// Transport over a process's IPC channel to another, for links between processes, which share no
// memory. The channel is a framed pipe (pipe-channel.ts): every message is structured-cloned
// through v8.serialize, so values keep the fidelity they have between threads (Maps, Dates, typed
// arrays, errors, cycles) but nothing can be moved or shared, and a frame is bounded in size. One
// message carries one batch: the channel's outbox already gathers what a turn queued into a batch.
// One IPC channel carries the links of every apartment of a process server, each under its link
// number, and the process host's own messages (hello, boot, exit, terminate); each message is a
// tuple [tag, link, payload] and each side reads only its own tags and links.
// A batch's payload is its WireEncoder bytes as a one-byte string when the encoder takes it (what
// a batch usually holds), else the batch itself, structured-cloned. Why not always the batch: a
// serializer holds every object it wrote until its own wrapper is collected, so each message of
// every call was alive at the next scavenge; V8 then allocated those messages straight in old
// space (allocation-site pretenuring), and a steady stream of calls grew old space until
// mark-compacts. A string is copied by the serializer and holds no object; it is also cheaper to
// write and read than nested arrays.
import { serialize } from 'node:v8';
import { ProtocolError } from '../errors.js';
import { Op, type Batch } from '../protocol.js';
import type { Transferable, Transport, TransportCloseListener, TransportReceiver } from '../transport.js';
import { MAX_ENCODED_BATCH } from './frame-check.js';
import { WireDecoder, WireEncoder } from './wire-serializer.js';

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
  /**
   * opener → other node, on the node pair's NATS session: [tag, GATEWAY_LINK, null]: open the link
   * between the two runtimes' main apartments (references between runtimes, docs/cluster.md).
   */
  Gateway: 'runtime:gateway',
} as const;

/** The link number of the link between two runtimes' main apartments on their node pair's session (apartments' links are positive). */
export const GATEWAY_LINK = 0;

/** One end of an IPC channel: a PipeChannel (pipe-channel.ts) in the host and in the child. */
export interface IpcPeer {
  send?: ((message: unknown, sendHandle?: undefined, options?: undefined, callback?: (error: Error | null) => void) => boolean) | undefined;
  readonly connected?: boolean;
  disconnect?: (() => void) | undefined;
  readonly channel?: { ref(): void; unref(): void } | null | undefined;
  /** Why a batch with calls or answers may not go now (the other side left too much unread); undefined when it may. */
  backlogRefusal?: (() => Error | undefined) | undefined;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

/** Whether `message` is a tagged IPC message [tag, link, payload] with tag `tag`. */
export function isIpc(message: unknown, tag: string): message is [string, number, unknown] {
  return Array.isArray(message) && message.length === 3 && message[0] === tag && typeof message[1] === 'number';
}

/**
 * One IPC channel's router: its open links, and the one listener that hands each message to its
 * link. A process server's channel carries many links, and a listener each would be looked up by
 * every message (and trip Node's listener-leak warning past ten). On a channel whose other side is
 * trusted and may send on a link before this side opened it (keepEarlyMessages), it also keeps
 * those messages, bounded, for the link to take when it opens.
 */
interface ChannelRouter {
  readonly open: Map<number, IpcTransport>;
  /** Messages for links not opened yet, by link; undefined: dropped. */
  early: Map<number, unknown[]> | undefined;
  /** Links opened so far (kept early only): a closed link's late messages are not kept. */
  readonly opened: Set<number>;
}

const MAX_EARLY_LINKS = 256;
const MAX_EARLY_MESSAGES = 4_096;
const routers = new WeakMap<IpcPeer, ChannelRouter>();

function routerOf(peer: IpcPeer): ChannelRouter {
  const known = routers.get(peer);
  if (known) return known;
  const router: ChannelRouter = { open: new Map(), early: undefined, opened: new Set() };
  routers.set(peer, router);
  peer.on('message', (message) => {
    if (!Array.isArray(message) || typeof message[1] !== 'number') return;
    const link = router.open.get(message[1]);
    if (link) link.deliver(message);
    else if (router.early && !router.opened.has(message[1]) && (message[0] === IpcTag.Batch || message[0] === IpcTag.Close)) keepEarly(router.early, message[1], message);
  });
  peer.on('disconnect', () => {
    for (const link of [...router.open.values()]) link.deliver(DISCONNECTED);
  });
  return router;
}

function keepEarly(early: Map<number, unknown[]>, link: number, message: unknown): void {
  let queue = early.get(link);
  if (!queue) {
    if (early.size >= MAX_EARLY_LINKS) return;
    early.set(link, (queue = []));
  }
  if (queue.length < MAX_EARLY_MESSAGES) queue.push(message);
}

/**
 * Keep what arrives on `peer`'s channel for links not opened yet, and hand it to each as it opens:
 * a child's channel to its host, where a relayed link's first batches can come before the Connect
 * that names it has been handled. Never on a host's channel to a child: a child is not trusted.
 */
export function keepEarlyMessages(peer: IpcPeer): void {
  routerOf(peer).early ??= new Map();
}

function joinChannel(peer: IpcPeer, transport: IpcTransport): void {
  const router = routerOf(peer);
  router.open.set(transport.link, transport);
  if (!router.early) return;
  router.opened.add(transport.link);
  const kept = router.early.get(transport.link);
  router.early.delete(transport.link);
  for (const message of kept ?? []) transport.deliver(message);
}

function leaveChannel(peer: IpcPeer, transport: IpcTransport): void {
  const router = routers.get(peer);
  if (router?.open.get(transport.link) === transport) router.open.delete(transport.link);
}

/** A failed write means the other side is going; its disconnect ends the links. */
const ignoreWriteFailure = (): undefined => undefined;

/** What a link is handed when its channel disconnects. */
const DISCONNECTED = Symbol('disconnected');


// Per thread (modules are): neither is re-entrant, and neither runs user code between its steps
// except plain objects' getters, as structured clone would.
const encoder = new WireEncoder();
let inbound = Buffer.allocUnsafeSlow(4096);
let decoder = new WireDecoder(inbound);

/** Whether `message` is a call, a notification or an answer: what a backlogged peer is refused (IpcTransport.post). */
function carriesCall(message: Batch[number]): boolean {
  const op = message[0];
  return op === Op.Call || op === Op.PipelineCall || op === Op.Notify || op === Op.Result || op === Op.Error;
}

/** The batch whose encoded bytes `text` holds; ProtocolError when they are not one well-formed batch. */
function decodeBatch(text: string): unknown {
  if (text.length === 0 || text.length > MAX_ENCODED_BATCH) throw new ProtocolError(`[ipc] an encoded batch of ${text.length} characters (1 to ${MAX_ENCODED_BATCH} allowed)`);
  if (text.length > inbound.length) {
    inbound = Buffer.allocUnsafeSlow(Math.min(MAX_ENCODED_BATCH, 2 ** Math.ceil(Math.log2(text.length))));
    decoder = new WireDecoder(inbound);
  }
  const n = inbound.write(text, 0, 'latin1');
  return decoder.decode(0, n);
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
  /** Whether a batch with calls or answers waits while the peer is over its backlog (see relaysForThread). */
  private holdsBack = true;
  /** Whether every batch, bookkeeping too, is refused while the peer is over its backlog (see relayed). */
  private holdsAll = false;
  /** The one [tag, link, payload] this link sends its batches in (post()). */
  private readonly frame: [string, number, unknown];

  constructor(readonly link: number, peer?: IpcPeer) {
    this.frame = [IpcTag.Batch, link, null];
    if (peer) this.open(peer);
  }

  /** A message of this link from its channel's router (or kept for it before it opened); the channel's disconnect ends the link. */
  deliver(message: unknown): void {
    if (this.closed) return;
    if (message === DISCONNECTED) return this.end(undefined);
    if (!Array.isArray(message) || message[1] !== this.link) return;
    if (isIpc(message, IpcTag.Close)) return this.end(undefined);
    if (!isIpc(message, IpcTag.Batch)) return;
    let batch = message[2];
    if (typeof batch === 'string') {
      try {
        batch = decodeBatch(batch);
      } catch (err) {
        return this.fault(err as Error);
      }
    }
    if (this.receiver) this.receiver(batch);
    else this.arrived.push(batch);
  }

  /** Start using `peer`'s channel: batches sent so far leave in order. */
  open(peer: IpcPeer): void {
    if (this.peer || this.closed) return;
    this.peer = peer;
    joinChannel(peer, this);
    const waiting = this.waiting;
    this.waiting = [];
    for (const batch of waiting) {
      try {
        this.post(batch);
      } catch (err) {
        // Held since before the link opened, it cannot leave now (larger than the peer carries, or
        // changed since into what cannot be copied): close the link with the reason, so its calls
        // fail now instead of at their deadlines and nothing after it leaves out of order.
        this.abandon(err);
        return;
      }
    }
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

  /**
   * Mark this link as one this process relays for a thread of its own (lib/process-threads.ts): its
   * batches are never held back for the peer's backlog, since nobody here could fail the thread's
   * calls and answers in them (they would wait out their deadlines on both sides). The host reads
   * what it is sent; while it is slow to, what the thread sends waits in this process's memory,
   * which is the process's own to spend.
   */
  relaysForThread(): this {
    this.holdsBack = false;
    return this;
  }

  /**
   * Mark this link as one the host relays another apartment's batches onto (apartments/broker.ts):
   * the bookkeeping in them is as much as that apartment cares to send, not what this side made,
   * so while the peer is over its backlog every batch is refused and the relay closes, as one into
   * a busy worker does (credited-port-transport.ts). A process that sent Releases through a relay
   * to a stopped process made the host hold all of them.
   */
  relayed(): this {
    this.holdsAll = true;
    return this;
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
    // Only batches with calls, notifications or answers wait for the peer to read: bookkeeping
    // (releases, AddRefs, loan returns) is small and must not be lost, or counts go wrong on both sides.
    const refusal = this.holdsBack ? peer.backlogRefusal?.() : undefined;
    if (refusal && (this.holdsAll || batch.some(carriesCall))) throw refusal;
    const n = encoder.encode(batch, MAX_ENCODED_BATCH);
    // Serialization happens inside send, synchronously: a DataCloneError reaches the caller with
    // nothing sent, and the frame can be used again at once (one per link, so the serializer's
    // hold on what it wrote keeps no message of a call alive). A failure to write (the other side
    // just died) arrives in the callback and is left to the disconnect that follows it.
    const frame = this.frame;
    frame[2] = n > 0 ? encoder.bytes.toString('latin1', 0, n) : batch;
    try {
      peer.send(frame, undefined, undefined, ignoreWriteFailure);
    } finally {
      frame[2] = null;
    }
  }

  /** This side cannot go on sending on the link: close both sides of it, and tell the listener why. */
  private abandon(cause: unknown): void {
    const peer = this.peer;
    this.end(cause);
    if (peer?.connected) peer.send?.([IpcTag.Close, this.link, null], undefined, undefined, ignoreWriteFailure);
  }

  /** The peer sent what no well-behaved side sends on this link: close it, and tell the listener why. */
  private fault(cause: Error): void {
    this.abandon(cause instanceof ProtocolError ? cause : new ProtocolError(`[ipc] ${cause.message}`));
  }

  private end(cause: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.waiting = [];
    this.arrived = [];
    if (this.peer) leaveChannel(this.peer, this);
    const onClose = this.onClose;
    // A child keeps its link ends by number for good (ipc-link.ts): a closed one must not keep its channel alive.
    this.receiver = undefined;
    this.onClose = undefined;
    onClose?.(cause);
  }
}
