// An in-memory transport pair for unit specs of the marshal layer only: batches are cloned with
// structuredClone (so the same values fail as on a real port) and delivered on a later macrotask.
import type { Batch } from '../protocol.js';
import type { LinkTraits, Transferable, Transport, TransportCloseListener, TransportReceiver } from '../transport.js';

/** What an in-memory link carries: clones within one thread, so memory is shared. */
export const MEMORY_LINK: LinkTraits = { name: 'memory', direct: true, carries: 'clone', sharedMemory: true };

class MemoryEnd implements Transport {
  peer!: MemoryEnd;
  private receiver: TransportReceiver | undefined;
  private onClose: TransportCloseListener | undefined;
  private readonly backlog: unknown[] = [];
  private closed = false;

  send(batch: Batch, transfer?: readonly Transferable[]): void {
    if (this.closed) return;
    const copy = structuredClone(batch, transfer ? { transfer: transfer as Transferable[] } : undefined);
    const peer = this.peer;
    setImmediate(() => peer.deliver(copy));
  }

  listen(receiver: TransportReceiver, onClose: TransportCloseListener): void {
    this.receiver = receiver;
    this.onClose = onClose;
    for (const data of this.backlog.splice(0)) receiver(data);
  }

  setKeepAlive(): void {
    // Nothing keeps a thread alive here: there is no handle.
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose?.();
    const peer = this.peer;
    setImmediate(() => peer.close());
  }

  /** Test hook: hand raw data to this end as if it had arrived from the peer. */
  deliver(data: unknown): void {
    if (this.closed) return;
    if (this.receiver) this.receiver(data);
    else this.backlog.push(data);
  }
}

/** Two connected in-memory transport ends. */
export function createMemoryTransportPair(): [MemoryEnd, MemoryEnd] {
  const a = new MemoryEnd();
  const b = new MemoryEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export type MemoryTransport = MemoryEnd;
