// The near end of a relayed link to a worker thread of this process (apartments/hosts/
// worker-host.ts): a port whose far end reports, in shared memory, how many of the batches posted
// to it it has taken. A MessagePort queues without limit, and what a relay posts comes from another
// process: a plugin that kept sending to an apartment busy in a long call made its host hold every
// batch (16 sends of 32 MiB raised the host's memory from 69 to 742 MiB). This end counts what is
// posted and not yet taken, and refuses to post more once MAX_BACKLOG_BYTES of it wait: the relay
// then closes the link (apartments/broker.ts), whose calls fail on both sides. Owner thread only.
import { serialize } from 'node:v8';
import type { MessagePort } from 'node:worker_threads';
import { CallRejectedError } from '../errors.js';
import type { Batch } from '../protocol.js';
import type { Transferable } from '../transport.js';
import { MAX_BACKLOG_BYTES } from './pipe-channel.js';
import { PortTransport } from './port-transport.js';

/** A port transport that knows how much of what it posted still waits on the other side. */
export class CreditedPortTransport extends PortTransport {
  /** Batches the far end has taken, as it counts them (Int32, wrapping). */
  private readonly taken: Int32Array;
  /** The sizes of the batches posted and not known to be taken, oldest first from `head`. */
  private sizes: number[] = [];
  private head = 0;
  /** Batches known taken so far (the count `taken` had at the last look). */
  private seen = 0;
  /** Bytes of the batches posted and not known to be taken. */
  private waiting = 0;

  constructor(port: MessagePort, takenMemory: SharedArrayBuffer, private readonly maxBacklogBytes = MAX_BACKLOG_BYTES) {
    super(port);
    this.taken = new Int32Array(takenMemory, 0, 1);
  }

  /** Bytes posted that the other side has not taken yet. */
  get backlog(): number {
    this.settle();
    return this.waiting;
  }

  override send(batch: Batch, transfer?: readonly Transferable[]): void {
    if (this.backlog > this.maxBacklogBytes) {
      throw new CallRejectedError(
        `[relay-backlog] the apartment has left ${this.waiting} bytes relayed to it untaken (at most ${this.maxBacklogBytes}): it is busy in a long call or hung, and what is relayed to it would wait in this process's memory`,
        { code: 'RPC_E_SERVERCALL_RETRYLATER' },
      );
    }
    const size = sizeOf(batch);
    // Counted once posted: a batch the port refuses (DataCloneError) never reaches the other side.
    super.send(batch, transfer);
    this.sizes.push(size);
    this.waiting += size;
  }

  /** Forget the batches the other side took since the last look. */
  private settle(): void {
    const taken = Atomics.load(this.taken, 0);
    while (((taken - this.seen) | 0) > 0 && this.head < this.sizes.length) {
      this.waiting -= this.sizes[this.head++]!;
      this.seen = (this.seen + 1) | 0;
    }
    // Drop what was consumed from the front now and then, not at every batch.
    if (this.head > 1_024 && this.head * 2 > this.sizes.length) {
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * A batch's size as it crosses: an encoded batch is one string; any other is weighed by V8's own
 * serializer, in native code and sparse arrays as sparse (a walk of the value in JavaScript took a
 * 13-byte frame's array of length 2^32 - 1 element by element, and crashed the host). The
 * serializer writes a view's own bytes only, which is what a view from a peer's frame holds: the
 * channel gives each its own buffer (owned-deserializer.ts).
 */
function sizeOf(batch: Batch): number {
  // What a relay carries may be an encoded batch, a string, though Batch does not say so.
  const carried: unknown = batch;
  return typeof carried === 'string' ? carried.length : serialize(carried).byteLength;
}
