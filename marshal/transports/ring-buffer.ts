// The shared memory of one shared-ring transport: a header of control words and two
// single-producer/single-consumer byte rings, one per direction. Side s consumes ring s and
// produces into ring 1 - s. All cross-thread ordering goes through Atomics (sequentially
// consistent), so a plain write of a record's bytes is published by the Atomics.store of `head`.
//
// Record layout (8-byte aligned): int32 length of the payload (WRAP_MARK = skip to the ring's
// start, PORT_MARK = this item went over the port), int32 sequence number, then the payload. Positions `head` and `tail` are byte counters
// that wrap at 2^32; the ring's capacity is a power of two well below that.
// Loaded for its effect: this module's typed-array code must be optimised with V8's detach checks.
import '../detach-protector.js';

/** Words live on separate 64-byte lines so the producer's and consumer's writes do not share a cache line. */
const LINE = 16;
const MAGIC = 0x52494e47; // "RING"
const LAYOUT_VERSION = 1;

// Line 0: identity and per-side closing state.
const W_MAGIC = 0;
const W_VERSION = 1;
const W_CAPACITY = 2;
/** CLOSED + s: side s closed (1) or not (0). */
const W_CLOSED = 3;
/** FINAL + s: the sequence number side s would have used next when it closed. */
const W_FINAL = 5;
/** The sequence number both sides start from (0 except in wrap-around specs, see allocateRingMemory). */
const W_FIRST_SEQ = 7;
/** Per ring r, the words sit on lines 1 + 3r (head), 2 + 3r (tail), 3 + 3r (consumer state). */
const headIndex = (r: number): number => (1 + 3 * r) * LINE;
const tailIndex = (r: number): number => (2 + 3 * r) * LINE;
const stateIndex = (r: number): number => (3 + 3 * r) * LINE;
const HEADER_BYTES = 7 * LINE * 4;
const DATA_OFFSET = 512;

const RECORD_HEADER = 8;
/** Records at most this long are copied into the ring by a loop rather than through a view. */
const SMALL_RECORD = 96;
const WRAP_MARK = -1;
/** A record with this length has no payload: item `seq` travels on the companion port. */
export const PORT_MARK = -2;

/** The consumer of a ring is running (draining or spinning) or parked (it waits for a message on its port). */
export const ConsumerState = { Running: 0, Parked: 1 } as const;

/** Smallest and largest ring sizes accepted, in bytes per direction. */
export const MIN_RING_BYTES = 1024;
export const MAX_RING_BYTES = 1 << 30;

/**
 * Allocate and initialise the shared memory for a pair with `ringBytes` per direction (a power of
 * two). `startCounters` (a multiple of 8, default 0) is where both rings' byte positions and both
 * directions' sequence numbers begin: only specs move it, to cross the 32-bit wrap within a few
 * hundred items; both sides read the start from here, so it cannot disagree between them.
 */
export function allocateRingMemory(ringBytes: number, startCounters = 0): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(DATA_OFFSET + 2 * ringBytes);
  const words = new Int32Array(sab, 0, HEADER_BYTES / 4);
  words[W_CAPACITY] = ringBytes;
  words[W_VERSION] = LAYOUT_VERSION;
  for (const r of [0, 1]) {
    words[headIndex(r)] = startCounters;
    words[tailIndex(r)] = startCounters;
  }
  words[W_FIRST_SEQ] = startCounters;
  Atomics.store(words, W_MAGIC, MAGIC);
  return sab;
}

/** Why `sab` is not memory from allocateRingMemory, or undefined when it is. */
export function checkRingMemory(sab: unknown): string | undefined {
  if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < DATA_OFFSET + 2 * MIN_RING_BYTES) return 'not a SharedArrayBuffer made by SharedRingTransport.create';
  const words = new Int32Array(sab, 0, HEADER_BYTES / 4);
  if (Atomics.load(words, W_MAGIC) !== MAGIC) return 'its header was never initialised';
  if (words[W_VERSION] !== LAYOUT_VERSION) return `its layout version is ${words[W_VERSION]}, this side speaks ${LAYOUT_VERSION}`;
  const capacity = words[W_CAPACITY]!;
  if (DATA_OFFSET + 2 * capacity !== sab.byteLength) return 'its recorded capacity does not match its size';
  if ((capacity & (capacity - 1)) !== 0) return 'its recorded capacity is not a power of two';
  return undefined;
}

/** Bytes per direction of memory that passed checkRingMemory. */
export function ringBytesOf(sab: SharedArrayBuffer): number {
  return (sab.byteLength - DATA_OFFSET) / 2;
}

/** One side's view of the pair: reads ring `side`, writes ring `1 - side`. Owner thread only. */
export class RingPair {
  readonly capacity: number;
  readonly words: Int32Array;
  private readonly inData: Uint8Array;
  private readonly outData: Uint8Array;
  private readonly mask: number;
  private readonly inHead: number;
  private readonly inTail: number;
  private readonly outHead: number;
  private readonly outTail: number;
  /** Index of the state word this side parks on. */
  readonly inState: number;
  private readonly outState: number;
  private readonly side: number;
  /** Consumer's own copy of its ring's tail (only this side writes it). */
  private readPos: number;
  /** Producer's own copy of the outbound head, and the last tail it saw (refreshed only when short of space). */
  private writePos: number;
  private seenOutTail: number;

  constructor(readonly sab: SharedArrayBuffer, side: 0 | 1) {
    this.side = side;
    this.words = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.capacity = this.words[W_CAPACITY]!;
    this.mask = this.capacity - 1;
    this.inData = new Uint8Array(sab, DATA_OFFSET + side * this.capacity, this.capacity);
    this.outData = new Uint8Array(sab, DATA_OFFSET + (1 - side) * this.capacity, this.capacity);
    this.inHead = headIndex(side);
    this.inTail = tailIndex(side);
    this.inState = stateIndex(side);
    this.outHead = headIndex(1 - side);
    this.outTail = tailIndex(1 - side);
    this.outState = stateIndex(1 - side);
    this.readPos = Atomics.load(this.words, this.inTail);
    this.writePos = Atomics.load(this.words, this.outHead);
    this.seenOutTail = Atomics.load(this.words, this.outTail);
  }

  /** The sequence number both directions start from (see allocateRingMemory). */
  get firstSeq(): number {
    return this.words[W_FIRST_SEQ]!;
  }

  /** The inbound ring's bytes, for decoding a record in place. */
  get inbound(): Uint8Array {
    return this.inData;
  }

  /** Largest payload that can ever fit in one record (leaves room for a wrap skip). */
  get maxPayload(): number {
    return (this.capacity >>> 1) - RECORD_HEADER;
  }

  // ---- producer side ------------------------------------------------------------------------

  /**
   * Copy `payload[0, length)` into the outbound ring as record `seq` and publish it. Returns
   * false (writing nothing) when the ring lacks the space right now.
   */
  write(payload: Uint8Array, length: number, seq: number): boolean {
    const size = RECORD_HEADER + ((length + 7) & ~7);
    const at = this.writePos & this.mask;
    const tillEnd = this.capacity - at;
    const needed = tillEnd < size ? tillEnd + size : size;
    if (this.capacity - ((this.writePos - this.seenOutTail) >>> 0) < needed) {
      this.seenOutTail = Atomics.load(this.words, this.outTail);
      if (this.capacity - ((this.writePos - this.seenOutTail) >>> 0) < needed) return false;
    }
    let start = at;
    if (tillEnd < size) {
      this.writeHeader(at, WRAP_MARK, 0);
      start = 0;
    }
    this.writeHeader(start, length, seq);
    const dest = start + RECORD_HEADER;
    if (length <= SMALL_RECORD) {
      // A small call's record (≈ 60 bytes) is copied byte by byte: subarray() makes a Buffer per
      // write. 60 bytes: 61 ns against 100-110 (single thread); past ≈ 100 bytes the loop loses.
      const out = this.outData;
      for (let i = 0; i < length; i++) out[dest + i] = payload[i]!;
    } else {
      this.outData.set(length === payload.length ? payload : payload.subarray(0, length), dest);
    }
    this.writePos = (this.writePos + needed) | 0;
    Atomics.store(this.words, this.outHead, this.writePos);
    return true;
  }

  /** Tell a spinning consumer that item `seq` was posted on the port; false when there is no room. */
  writeMarker(seq: number): boolean {
    const at = this.writePos & this.mask;
    if (this.capacity - ((this.writePos - this.seenOutTail) >>> 0) < RECORD_HEADER) {
      this.seenOutTail = Atomics.load(this.words, this.outTail);
      if (this.capacity - ((this.writePos - this.seenOutTail) >>> 0) < RECORD_HEADER) return false;
    }
    this.writeHeader(at, PORT_MARK, seq);
    this.writePos = (this.writePos + RECORD_HEADER) | 0;
    Atomics.store(this.words, this.outHead, this.writePos);
    return true;
  }

  private writeHeader(at: number, length: number, seq: number): void {
    const d = this.outData;
    d[at] = length & 0xff;
    d[at + 1] = (length >>> 8) & 0xff;
    d[at + 2] = (length >>> 16) & 0xff;
    d[at + 3] = (length >>> 24) & 0xff;
    d[at + 4] = seq & 0xff;
    d[at + 5] = (seq >>> 8) & 0xff;
    d[at + 6] = (seq >>> 16) & 0xff;
    d[at + 7] = (seq >>> 24) & 0xff;
  }

  /**
   * If the peer parked, flag it running and return true: the caller owes it a message on the
   * companion port, the one thing a parked consumer waits for. Flagging first, then posting, means
   * a flag this side clears is always followed by a message the consumer has not read yet.
   */
  claimParkedPeer(): boolean {
    const w = this.words;
    return Atomics.load(w, this.outState) === ConsumerState.Parked && Atomics.compareExchange(w, this.outState, ConsumerState.Parked, ConsumerState.Running) === ConsumerState.Parked;
  }

  /** Record that this side closed after sending `finalSeq` items (a parked peer learns it from its port closing). */
  markClosed(finalSeq: number): void {
    Atomics.store(this.words, W_FINAL + this.side, finalSeq);
    Atomics.store(this.words, W_CLOSED + this.side, 1);
  }

  // ---- consumer side ------------------------------------------------------------------------

  /** True when at least one inbound record (or wrap mark) is waiting. */
  hasInput(): boolean {
    return Atomics.load(this.words, this.inHead) !== this.readPos;
  }

  /**
   * Position of the next inbound record's payload, skipping a wrap mark; -1 when none. Its
   * length and sequence number are then in `recordLength` / `recordSeq`.
   */
  peek(): number {
    const head = Atomics.load(this.words, this.inHead);
    if (head === this.readPos) return -1;
    this.seenHead = head;
    let at = this.readPos & this.mask;
    let length = this.readInt(at);
    if (length === WRAP_MARK) {
      this.readPos = (this.readPos + this.capacity - at) | 0;
      at = 0;
      length = this.readInt(0);
    }
    this.recordLength = length;
    this.recordSeq = this.readInt(at + 4);
    return at + RECORD_HEADER;
  }

  recordLength = 0;
  recordSeq = 0;
  private seenHead = 0;

  /**
   * Why the record last returned by peek() cannot be a record a well-behaved producer wrote, or
   * undefined when it can be. The producer may be hostile and owns these bytes: its length must
   * fit the ring and lie within what it published, so a bogus length is caught before anything
   * is decoded or consumed.
   */
  recordProblem(payloadAt: number): string | undefined {
    const length = this.recordLength;
    const published = (this.seenHead - this.readPos) >>> 0;
    if (published > this.capacity) return `the producer published ${published} bytes, more than the ring's ${this.capacity}`;
    if (length === PORT_MARK) return published < RECORD_HEADER ? 'a port marker is truncated' : undefined;
    if (length <= 0 || length > this.maxPayload) return `record length ${length} is outside 1..${this.maxPayload}`;
    if (payloadAt + length > this.capacity) return `a record of ${length} bytes at byte ${payloadAt} runs past the ring's end`;
    if (RECORD_HEADER + ((length + 7) & ~7) > published) return `a record of ${length} bytes is longer than the ${published} bytes published`;
    return undefined;
  }

  /** Release the record last returned by peek() to the producer. */
  consume(): void {
    const length = this.recordLength > 0 ? this.recordLength : 0;
    this.readPos = (this.readPos + RECORD_HEADER + ((length + 7) & ~7)) | 0;
    Atomics.store(this.words, this.inTail, this.readPos);
  }

  private readInt(at: number): number {
    const d = this.inData;
    return d[at]! | (d[at + 1]! << 8) | (d[at + 2]! << 16) | (d[at + 3]! << 24);
  }

  /** Flag this side parked. The caller must re-check for input afterwards (set flag, re-check, then wait). */
  setParked(): void {
    Atomics.store(this.words, this.inState, ConsumerState.Parked);
  }

  /** Flag this side running. */
  setRunning(): void {
    Atomics.store(this.words, this.inState, ConsumerState.Running);
  }

  /** This side's consumer state, as the peer sees it. */
  get state(): number {
    return Atomics.load(this.words, this.inState);
  }

  /** The peer's consumer state (ConsumerState), read from shared memory. */
  get peerState(): number {
    return Atomics.load(this.words, this.outState);
  }

  /** Undefined while the peer is open; otherwise the sequence number it would have sent next. */
  peerFinalSeq(): number | undefined {
    const peer = 1 - this.side;
    return Atomics.load(this.words, W_CLOSED + peer) === 1 ? Atomics.load(this.words, W_FINAL + peer) : undefined;
  }
}
