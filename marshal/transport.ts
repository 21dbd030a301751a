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
  /**
   * Deliver now, in order, what the peer already sent and the receiver has not had: its link is
   * about to close, and answers it wrote before it died still count. Left out by a transport that
   * delivers everything as it arrives.
   */
  deliverArrived?(): void;
}

/**
 * What a link kind declares about every link it makes. The engine decides by these flags and never
 * by a kind's name: which apartments the broker may link directly, what may travel over a link.
 */
export interface LinkTraits {
  /** The name the kind is registered under, e.g. 'port'; options and messages use it. */
  readonly name: string;
  /** The broker may link two apartments of this kind to each other directly (both in this process). */
  readonly direct: boolean;
  /** 'clone': values travel by structured clone, transfer lists included; 'bytes': as serialized bytes, nothing moved. */
  readonly carries: 'clone' | 'bytes';
  /** Both sides see the same memory: SharedArrayBuffers sent over the link stay shared. */
  readonly sharedMemory: boolean;
  /**
   * From how many bytes an ArrayBuffer (or a view of one) that is copied travels as a copy made by
   * the sender and moved, instead of being cloned (moved-copies.ts); absent: always cloned.
   */
  readonly moveCopiesFrom?: number;
}

/** One end of a link as it is sent to the side that attaches it, and what sending it must move. */
export interface LinkEnd {
  readonly end: unknown;
  readonly transfer: Transferable[];
}

/**
 * A kind of link between apartments (a transport and how its ends are made and attached). Kinds are
 * registered by name in every thread at the composition roots; the engine looks them up by name.
 */
export interface LinkKindDefinition extends LinkTraits {
  /** Make a link: this side keeps `near`; `far` goes to the other side, which attaches it. */
  create(): { near: Transport; far: unknown; transfer: Transferable[] };
  /**
   * Make both ends at once, so a third party (the broker on the main apartment) can hand one to
   * each side. Leave it out when only a side that keeps its end can make a link.
   */
  pair?(): [LinkEnd, LinkEnd];
  /** Why `value` is not a usable end of this kind, or undefined when it is. Ends come from peers: check everything attach() relies on. */
  checkEnd(value: unknown): string | undefined;
  /** Turn an end that passed checkEnd() into this side's transport. */
  attach(end: unknown): Transport;
}
