// One apartment's trace buffer in shared memory: a ring of bytes holding compact event records
// (trace-record.ts) its thread writes and the host reads, plus an append-only table of the names
// events mention (methods, error codes, locks). One writer (the apartment's thread) and one reader
// (the host): the writer publishes records by storing its byte position after writing them, the
// reader frees room by storing its position after copying them. When the ring is full new events
// are dropped and counted, never overwriting what the host has not read. The buffers outlive the
// thread, so the host still reads what an apartment recorded before it crashed. Positions are
// stored as int32 and wrap; only their difference (less than the ring's size) is ever used.
import { TraceKind, type TraceKindCode, type TraceSink } from '../../marshal/trace-hook.js';
import { RECORD_MAX_BYTES, TraceRecordDecoder, TraceRecordEncoder, type RawTraceEvent } from './trace-record.js';

export type { RawTraceEvent } from './trace-record.js';

const HEADER_WRITTEN = 0;
const HEADER_READ = 1;
const HEADER_DROPPED = 2;
const HEADER_NAME_BYTES = 3;
const NAME_BYTES_MAX = 0xffff;
/** A ring's size is a power of two of at least this many bytes (room for a Reset and a record). */
export const TRACE_RING_MIN_BYTES = 256;
/** Bytes a ring sets aside per event of the capacity asked for (a call's events average 6–12). */
const BYTES_PER_EVENT = 16;

/** What travels to an apartment's thread so it can write its ring (structured-cloneable). */
export interface TraceRingHandle {
  readonly apartment: number;
  readonly header: SharedArrayBuffer;
  /** The records: a power of two of bytes. */
  readonly events: SharedArrayBuffer;
  readonly names: SharedArrayBuffer;
  /** The global sequence counter every apartment's ring shares. */
  readonly sequence: SharedArrayBuffer;
}

/** Make the shared buffers of one apartment's ring, sized for about `capacity` events. */
export function createTraceRing(apartment: number, capacity: number, sequence: SharedArrayBuffer, nameBytes = 64 * 1024): TraceRingHandle {
  let bytes = TRACE_RING_MIN_BYTES;
  while (bytes < capacity * BYTES_PER_EVENT) bytes *= 2;
  return {
    apartment,
    header: new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT),
    events: new SharedArrayBuffer(bytes),
    names: new SharedArrayBuffer(nameBytes),
    sequence,
  };
}

/** The writing side, the TraceSink a thread installs. Owner: the apartment's thread. */
export class TraceRingWriter implements TraceSink {
  private readonly header: Int32Array;
  private readonly names: Uint8Array;
  private readonly sequence: Int32Array;
  private readonly records: TraceRecordEncoder;
  /** Bytes the unread part may hold before a record is dropped: room is left for the largest one. */
  private readonly room: number;
  private readonly nameIds = new Map<string, number>();
  private readonly encoder = new TextEncoder();
  private readSeen: number;
  private nameEnd: number;
  private started = false;

  constructor(handle: TraceRingHandle) {
    this.header = new Int32Array(handle.header);
    this.names = new Uint8Array(handle.names);
    this.sequence = new Int32Array(handle.sequence);
    const bytes = new Uint8Array(handle.events);
    this.records = new TraceRecordEncoder(bytes, bytes.length - 1);
    this.room = bytes.length - 2 * RECORD_MAX_BYTES;
    this.records.position = Atomics.load(this.header, HEADER_WRITTEN);
    this.readSeen = Atomics.load(this.header, HEADER_READ);
    this.nameEnd = Atomics.load(this.header, HEADER_NAME_BYTES);
  }

  record(kind: TraceKindCode, causality: number, peer: number, callId: number, name: string | number, extra: number): void {
    const records = this.records;
    // The reader's position is read again only when the one seen last says the ring is full.
    if (((records.position - this.readSeen) | 0) > this.room && ((records.position - (this.readSeen = Atomics.load(this.header, HEADER_READ))) | 0) > this.room) {
      Atomics.add(this.header, HEADER_DROPPED, 1);
      return;
    }
    if (!this.started) {
      // Every writer's stream starts with its clock origin, so event times compare across threads.
      records.reset(performance.timeOrigin);
      this.started = true;
    }
    const nameId = typeof name === 'number' ? -(name + 1) : this.nameId(name);
    records.encode(kind, Atomics.add(this.sequence, 0, 1), Math.round(performance.now() * 1e6), causality, peer, callId, nameId, extra);
    Atomics.store(this.header, HEADER_WRITTEN, records.position | 0);
  }

  /** 0 for '' (or when the name table is full), else the name's byte offset + 1. */
  private nameId(name: string): number {
    if (name === '') return 0;
    const known = this.nameIds.get(name);
    if (known !== undefined) return known;
    const bytes = this.encoder.encode(name.length > 200 ? name.slice(0, 200) : name);
    const start = this.nameEnd;
    if (start + 2 + bytes.length > this.names.length || bytes.length > NAME_BYTES_MAX) return 0;
    this.names[start] = bytes.length & 0xff;
    this.names[start + 1] = bytes.length >> 8;
    this.names.set(bytes, start + 2);
    this.nameEnd = start + 2 + bytes.length;
    // Published before any event that names it.
    Atomics.store(this.header, HEADER_NAME_BYTES, this.nameEnd);
    this.nameIds.set(name, start + 1);
    return start + 1;
  }
}

/** The reading side, on the host. Owner: the host's trace recorder. */
export class TraceRingReader {
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly names: Uint8Array;
  private readonly records: TraceRecordDecoder;
  private readonly decoded = new Map<number, string>();
  private readonly decoder = new TextDecoder();

  constructor(readonly handle: TraceRingHandle) {
    this.header = new Int32Array(handle.header);
    this.bytes = new Uint8Array(handle.events);
    this.names = new Uint8Array(handle.names);
    this.records = new TraceRecordDecoder(handle.apartment, (id) => this.nameOf(id));
  }

  /** Events dropped because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.header, HEADER_DROPPED);
  }

  /** Whether a record in this ring made no sense (its writer's memory was damaged); nothing after it is read. */
  get malformed(): boolean {
    return this.records.malformed;
  }

  /** Copy out every record written since the last drain and free their room: one or two copies of memory, no objects. */
  drainRaw(): Uint8Array | undefined {
    const w = Atomics.load(this.header, HEADER_WRITTEN);
    const r = Atomics.load(this.header, HEADER_READ);
    const length = (w - r) | 0;
    // A length beyond the ring is a damaged header: read nothing rather than garbage.
    if (length <= 0 || length > this.bytes.length) return undefined;
    const mask = this.bytes.length - 1;
    const from = r & mask;
    let copy: Uint8Array;
    if (from + length <= this.bytes.length) copy = this.bytes.slice(from, from + length);
    else {
      // Wrapped: the tail of the ring, then its head.
      copy = new Uint8Array(length);
      copy.set(this.bytes.subarray(from), 0);
      copy.set(this.bytes.subarray(0, length - (this.bytes.length - from)), this.bytes.length - from);
    }
    Atomics.store(this.header, HEADER_READ, w);
    return copy;
  }

  /** The events of a chunk drainRaw() returned; chunks must be decoded in the order they were drained. */
  decode(chunk: Uint8Array): RawTraceEvent[] {
    const out: RawTraceEvent[] = [];
    this.records.decode(chunk, out);
    return out;
  }

  /** Drain and decode at once. */
  drain(): RawTraceEvent[] {
    const chunk = this.drainRaw();
    return chunk ? this.decode(chunk) : [];
  }

  private nameOf(id: number): string {
    if (id === 0) return '';
    if (id < 0) return `#${-id - 1}`;
    let name = this.decoded.get(id);
    if (name === undefined) {
      const start = id - 1;
      // Ids come out of the writer's memory: anything that is no offset into the table names nothing.
      if (!Number.isSafeInteger(id) || start + 2 > this.names.length) return '';
      const length = this.names[start]! | (this.names[start + 1]! << 8);
      name = this.decoder.decode(this.names.slice(start + 2, start + 2 + length));
      this.decoded.set(id, name);
    }
    return name;
  }
}

/** The kinds by name, for exporters and readers. */
export const TRACE_KIND_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(TraceKind).map(([k, v]) => [v, k]));
