// Transport over SharedArrayBuffer: one byte ring per direction (ring-buffer.ts), values in a
// compact encoding (wire-serializer.ts), and a companion MessagePort for whatever the ring cannot
// carry. Every item has a sequence number, so port items are delivered in their place; a PORT_MARK
// record tells a spinning consumer to pull one synchronously (receiveMessageOnPort).
//
// Wake-ups (docs/performance.md; the spin loop is thread-spinner.ts): a consumer spins while that
// pays and no more threads are awake than cores, then parks: it flags itself parked and waits for a
// port message, which a producer that finds it parked posts (the item, or a WAKE after a record).
// Not Atomics.waitAsync: beside a CPU-bound process a notify cost ≈ 17 µs against ≈ 12 µs a post.
// Where nothing may spin (gate closed, or spinMicros 0) a parked link works as a port link: a batch
// for a parked peer goes over the port alone, delivered from its message event with none of the
// ring's encoding and wake bookkeeping, which cost more than they saved there.
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { InvalidArgumentError, ProtocolError } from '../errors.js';
import { checkSharedRingOptions, type SharedRingHandle, type SharedRingOptions } from './shared-ring-options.js';
import type { Batch } from '../protocol.js';
import { allocateRingMemory, checkRingMemory, ConsumerState, PORT_MARK, RingPair } from './ring-buffer.js';
import type { Transferable, Transport, TransportCloseListener, TransportReceiver } from '../transport.js';
import { PortQueue } from './port-queue.js';
import type { SharedRingStats } from './shared-ring-stats.js';
import { SpinPolicy } from './spin-policy.js';
import { now, spinner, threadGate, type SpinningConsumer } from './thread-spinner.js';
import { WireDecoder, WireEncoder } from './wire-serializer.js';

export type { SharedRingHandle, SharedRingOptions } from './shared-ring-options.js';
export type { SharedRingStats } from './shared-ring-stats.js';

/** The port message that wakes a parked consumer whose input went into the ring. */
const WAKE = 'wake';

const encoder = new WireEncoder();

/** A Transport over a SharedArrayBuffer ring pair plus a companion MessagePort for the rest. */
export class SharedRingTransport implements Transport, SpinningConsumer {
  /** Create the memory and channel for a pair; send `handle` to the peer thread, which calls attach(). */
  static create(options: SharedRingOptions = {}): { transport: SharedRingTransport; handle: SharedRingHandle } {
    const { ringBytes, maxInlineBytes, spinMicros, startCounters } = checkSharedRingOptions(options);
    const sab = allocateRingMemory(ringBytes, startCounters);
    const { port1, port2 } = new MessageChannel();
    const g = threadGate();
    // `this`, not the class's name: a bundle gives a class that names itself in its own body an
    // inner name, and that would become SharedRingTransport.name (.ci/bundle-engine.mjs).
    const transport = new this(sab, port1, 0, g.buffer as SharedArrayBuffer, maxInlineBytes, spinMicros);
    return { transport, handle: { sab, port: port2, gate: g.buffer as SharedArrayBuffer, maxInlineBytes, spinMicros } };
  }

  /** The peer's side of a pair made by create(); `handle` arrived from the creating thread. */
  static attach(handle: SharedRingHandle): SharedRingTransport {
    const problem = checkRingMemory(handle?.sab);
    if (problem) throw new InvalidArgumentError(`[shared-ring] handle.sab is unusable (${problem}); pass the handle from SharedRingTransport.create unchanged`, { parameter: 'handle' });
    if (!(handle.gate instanceof SharedArrayBuffer) || !handle.port || typeof handle.port.postMessage !== 'function') {
      throw new InvalidArgumentError('[shared-ring] handle lacks its port or gate; post the whole handle with transferList: [handle.port]', { parameter: 'handle' });
    }
    return new this(handle.sab, handle.port, 1, handle.gate, handle.maxInlineBytes, handle.spinMicros);
  }

  private readonly ring: RingPair;
  private readonly decoder: WireDecoder;
  private receiver: TransportReceiver | undefined;
  private onClose: TransportCloseListener | undefined;
  private closed = false;
  private closeFired = false;
  /** Why this side faulted the link (a malformed record or port item), told to the close listener. */
  private faultCause: ProtocolError | undefined;
  private portClosed = false;
  private keepAlive = true;
  private draining = false;
  /** Next sequence number this side sends / expects to deliver. */
  private sendSeq = 0;
  private expected = 0;
  /** Port items received but not yet due, in sequence order. */
  private readonly portQueue = new PortQueue();
  /** True from park() until input or a WAKE arrives on the port (or the consumer spins again). */
  private parked = false;
  private parkedAt = 0;
  private awake = false;
  /** Spinner bookkeeping (ThreadSpinner only). */
  spinSince = 0;
  readonly spinPolicy: SpinPolicy;
  /** Counters behind `stats` (diagnostics only). */
  private spins = 0;
  private parks = 0;
  private portSends = 0;
  private unmarkedPortSends = 0;
  private parkedDeliveries = 0;

  constructor(sab: SharedArrayBuffer, private readonly port: MessagePort, side: 0 | 1, gateMemory: SharedArrayBuffer, private readonly maxInlineBytes: number, spinMicros: number) {
    threadGate(gateMemory);
    this.spinPolicy = new SpinPolicy(spinMicros);
    this.ring = new RingPair(sab, side);
    this.decoder = new WireDecoder(this.ring.inbound);
    this.sendSeq = this.expected = this.ring.firstSeq;
    port.once('close', this.onPortClose);
  }

  /** True while this side's consumer is parked (read from shared memory). */
  get parkedNow(): boolean {
    return this.ring.state === ConsumerState.Parked;
  }

  /** True while the peer's consumer is parked (read from shared memory). */
  get peerParked(): boolean {
    return this.ring.peerState === ConsumerState.Parked;
  }

  /** A snapshot of this side's counters (SharedRingStats); read-only, for diagnostics and specs. */
  get stats(): SharedRingStats {
    const { spins, parks, portSends, unmarkedPortSends, parkedDeliveries } = this;
    return { spins, parks, portSends, unmarkedPortSends, parkedDeliveries, queuedPortItems: this.portQueue.size };
  }

  send(batch: Batch, transfer?: readonly Transferable[]): void {
    if (this.closed) return;
    const seq = this.sendSeq;
    const portLink = this.ring.peerState === ConsumerState.Parked && !spinner.allowedFor(this.spinPolicy);
    if (!portLink && (!transfer || transfer.length === 0)) {
      const n = encoder.encode(batch, this.maxInlineBytes);
      if (n >= 0 && this.ring.write(encoder.bytes, n, seq)) {
        this.sendSeq = (seq + 1) | 0;
        this.wakePeer();
        this.expectInput();
        return;
      }
    }
    // A parked peer is flagged running first, so this post is the message that wakes it.
    const wakes = this.ring.claimParkedPeer();
    try {
      // Throws DataCloneError for what cannot be cloned: then nothing was sent and seq is unused.
      this.port.postMessage([seq, batch], transfer as Transferable[] | undefined);
    } catch (err) {
      if (wakes) this.port.postMessage(WAKE);
      throw err;
    }
    this.sendSeq = (seq + 1) | 0;
    this.portSends++;
    // The marker comes after the post, so a consumer that sees it finds the item in its port queue.
    // A parked peer woken by this very post needs none when it will not spin.
    if (wakes && portLink) this.unmarkedPortSends++;
    else if (!this.ring.writeMarker(seq)) this.unmarkedPortSends++;
    else if (!wakes) this.wakePeer();
    this.expectInput();
  }

  /** After a ring write: a peer that parked before seeing it gets a WAKE on its port. */
  private wakePeer(): void {
    if (this.ring.claimParkedPeer()) this.port.postMessage(WAKE);
  }

  listen(receiver: TransportReceiver, onClose: TransportCloseListener): void {
    this.receiver = receiver;
    this.onClose = onClose;
    if (this.closed) return;
    this.port.on('message', this.onPortMessage);
    if (!this.keepAlive) this.port.unref();
    this.setAwake(true);
    queueMicrotask(this.drain);
  }

  setKeepAlive(keepAlive: boolean): void {
    this.keepAlive = keepAlive;
    if (!this.receiver || this.closed) return;
    if (keepAlive) this.port.ref();
    else this.port.unref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ring.markClosed(this.sendSeq);
    this.stopConsuming();
    // Our own listener hears of it through the local port's 'close' event, like PortTransport.
    this.port.close();
  }

  // ---- consumer ------------------------------------------------------------------------------

  /** Input is due: the next ring record exists, or the next port item is queued. */
  hasWork(): boolean {
    return this.ring.hasInput() || this.portQueue.isDue(this.expected);
  }

  /**
   * Transport contract: deliver now what the peer already sent (its link is about to close), with
   * no spinning or parking after. Re-entrant calls return.
   */
  deliverArrived(): void {
    this.deliverReady(true);
  }

  /**
   * Deliver what is due (draining); true when the next item went over the port and has not come.
   * `unmarked`: also pull the port while it holds anything, for items sent with no marker (to a
   * parked peer as a port link, or past a full ring) that no record points to; a drain leaves those
   * to their message event.
   */
  private deliverReady(unmarked: boolean): boolean {
    if (this.draining || this.closed || !this.receiver) return false;
    this.draining = true;
    try {
      let blockedOnPort = this.deliverDue();
      while (unmarked && !blockedOnPort && !this.closed && this.pullPort()) blockedOnPort = this.deliverDue();
      return blockedOnPort;
    } finally {
      this.draining = false;
    }
  }

  /** Deliver every item that is due, in sequence order, then spin or park. Re-entrant calls return. */
  readonly drain = (): void => {
    if (this.draining || !this.receiver) return;
    const blockedOnPort = this.deliverReady(false);
    if (this.closed) return;
    const final = this.ring.peerFinalSeq();
    if ((final !== undefined && final === this.expected) || this.portClosed) return this.peerGone();
    if (!blockedOnPort && spinner.allowed() && this.spinPolicy.shouldSpin()) this.spin();
    else this.park(blockedOnPort);
  };

  /** Deliver the items that are due (draining only); true when the next one went over the port and has not come. */
  private deliverDue(): boolean {
    while (!this.closed) {
      if (this.portQueue.isDue(this.expected)) {
        const batch = this.portQueue.take();
        this.expected = (this.expected + 1) | 0;
        this.deliver(batch);
        continue;
      }
      const at = this.ring.peek();
      if (at < 0) return false;
      const seq = this.ring.recordSeq;
      const problem = this.ring.recordProblem(at);
      if (problem) {
        this.fault(`[shared-ring] a malformed record arrived (${problem}); the link was faulted`);
        return false;
      }
      if (this.ring.recordLength === PORT_MARK && ((seq - this.expected) | 0) < 0) {
        this.ring.consume();
        continue;
      }
      if (seq !== this.expected || this.ring.recordLength === PORT_MARK) {
        // Item `expected` went over the port; it is already in the port's queue if its marker is here.
        if (this.pullPort()) continue;
        return true;
      }
      let batch: unknown;
      try {
        batch = this.decoder.decode(at, this.ring.recordLength);
      } catch (err) {
        this.fault((err as Error).message);
        return false;
      }
      this.ring.consume();
      this.expected = (this.expected + 1) | 0;
      this.deliver(batch);
    }
    return false;
  }

  private deliver(batch: unknown): void {
    try {
      this.receiver!(batch);
    } catch (err) {
      // Keep draining in order; the receiver's error still surfaces as an uncaught exception.
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  /** Take one message off the port synchronously; false when its queue is empty. */
  private pullPort(): boolean {
    const m = receiveMessageOnPort(this.port);
    if (!m) return false;
    this.onPortMessage(m.message);
    return true;
  }

  private readonly onPortMessage = (data: unknown): void => {
    if (this.closed) return;
    // A WAKE pulled by a drain under way (pullPort) needs nothing: the drain reads the ring.
    if (data === WAKE) return this.draining ? undefined : this.wake();
    if (!Array.isArray(data) || typeof data[0] !== 'number') {
      // Not framed by a SharedRingTransport: hand it on raw so the channel reports it.
      this.deliver(data);
      return;
    }
    if (this.parked && !this.draining && data[0] === this.expected && this.portQueue.size === 0 && !this.ring.hasInput() && !spinner.allowedFor(this.spinPolicy)) return this.deliverParked(data[1]);
    const refused = this.portQueue.add(data[0], data[1], this.expected);
    if (refused) return this.fault(`[shared-ring] ${refused}`);
    if (!this.draining) this.wake();
  };

  /** The next item came alone on the port while parked and nothing may spin: deliver it, park again. */
  private deliverParked(batch: unknown): void {
    this.parkedDeliveries++;
    this.expected = (this.expected + 1) | 0;
    this.draining = true;
    this.deliver(batch);
    this.draining = false;
    // The receiver may have closed the link, or unparked it to spin for an answer it sent for.
    if (this.closed || !this.parked) return;
    // Its sender flagged this side running when it posted the item: parked again, unless more came.
    this.ring.setParked();
    this.parks++;
    if (this.hasWork() || this.ring.peerFinalSeq() === this.expected) this.wake();
  }

  /** A port message arrived outside a drain: unpark (the spin policy learns how long it was) and drain. */
  private wake(): void {
    if (this.parked) this.spinPolicy.woken(now() - this.parkedAt);
    this.unpark();
    this.drain();
  }

  /**
   * Park: flag parked, re-check, then wait for a port message (ThreadSpinner and drain only).
   * `blockedOnPort`: the next item is due on the port, whose message event will wake us, so new
   * ring input is no reason to stay awake.
   */
  park(blockedOnPort = false): void {
    if (this.closed || this.parked) return;
    this.spinSince = 0;
    this.ring.setParked();
    if ((!blockedOnPort && this.hasWork()) || this.ring.peerFinalSeq() === this.expected) {
      this.ring.setRunning();
      queueMicrotask(this.drain);
      return;
    }
    this.parked = true;
    this.parks++;
    this.parkedAt = now();
    this.setAwake(false);
  }

  /** Leave the parked state, if parked. */
  private unpark(): void {
    if (!this.parked) return;
    this.parked = false;
    this.setAwake(true);
    this.ring.setRunning();
  }

  /** We just sent: a reply is likely, so spin for it if spinning has been paying (or it is time to probe). */
  private expectInput(): void {
    if (!this.parked || !this.receiver || !spinner.allowed() || !this.spinPolicy.shouldSpin()) return;
    this.unpark();
    this.spin();
  }

  private spin(): void {
    this.spins++;
    spinner.add(this);
  }

  private setAwake(awake: boolean): void {
    if (this.awake === awake) return;
    this.awake = awake;
    spinner.setAwake(awake);
  }

  private stopConsuming(): void {
    this.parked = false;
    spinner.remove(this);
    this.setAwake(false);
  }

  private readonly onPortClose = (): void => {
    this.portClosed = true;
    if (!this.closed && this.receiver) this.drain();
    if (this.closed) this.fireClose();
  };

  /** The peer closed or its thread died: deliver what arrived, then tell the listener once. */
  private peerGone(): void {
    if (!this.closed) {
      this.closed = true;
      this.stopConsuming();
      this.port.close();
    }
    this.fireClose();
  }

  private fireClose(): void {
    if (this.closeFired || !this.onClose) return;
    this.closeFired = true;
    this.onClose(this.faultCause);
  }

  /** The peer sent what no well-behaved transport sends: close the link, tell the listener why. */
  private fault(message: string): void {
    if (this.closed) return;
    this.faultCause = new ProtocolError(message);
    this.portQueue.clear();
    this.close();
  }
}
