// One apartment's trace buffer in shared memory: a ring of fixed-size numeric events its thread
// writes and the host reads, plus an append-only table of the names events mention (methods,
// error codes, locks). One writer (the apartment's thread) and one reader (the host): the writer
// publishes an event by storing the write count after the event's fields, the reader frees room
// by storing the read count after copying them. When the ring is full new events are dropped and
// counted, never overwriting what the host has not read. The buffers outlive the thread, so the
// host still reads what an apartment recorded before it crashed.
import { TraceKind, type TraceKindCode, type TraceSink } from '../../marshal/trace-hook.js';

/** Float64 fields per event: seq, time, kind, causality, peer, callId, name, extra. */
const FIELDS = 8;
const HEADER_WRITTEN = 0;
const HEADER_READ = 1;
const HEADER_DROPPED = 2;
const HEADER_NAME_BYTES = 3;
const NAME_BYTES_MAX = 0xffff;

/** What travels to an apartment's thread so it can write its ring (structured-cloneable). */
export interface TraceRingHandle {
  readonly apartment: number;
  readonly header: SharedArrayBuffer;
  readonly events: SharedArrayBuffer;
  readonly names: SharedArrayBuffer;
  /** The global sequence counter every apartment's ring shares. */
  readonly sequence: SharedArrayBuffer;
}

/** One event as the host reads it. */
export interface RawTraceEvent {
  readonly seq: number;
  /** Wall-clock milliseconds (performance.timeOrigin + performance.now() of the writing thread). */
  readonly time: number;
  readonly kind: TraceKindCode;
  readonly apartment: number;
  readonly causality: number;
  readonly peer: number;
  readonly callId: number;
  readonly name: string;
  readonly extra: number;
}

/** Make the shared buffers of one apartment's ring holding `capacity` events. */
export function createTraceRing(apartment: number, capacity: number, sequence: SharedArrayBuffer, nameBytes = 64 * 1024): TraceRingHandle {
  return {
    apartment,
    header: new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT),
    events: new SharedArrayBuffer(capacity * FIELDS * Float64Array.BYTES_PER_ELEMENT),
    names: new SharedArrayBuffer(nameBytes),
    sequence,
  };
}

/** The writing side, the TraceSink a thread installs. Owner: the apartment's thread. */
export class TraceRingWriter implements TraceSink {
  private readonly header: Int32Array;
  private readonly events: Float64Array;
  private readonly names: Uint8Array;
  private readonly sequence: Int32Array;
  private readonly capacity: number;
  private readonly nameIds = new Map<string, number>();
  private readonly encoder = new TextEncoder();
  private written = 0;
  private readSeen = 0;
  private nameEnd = 0;
  /** Event times are wall-clock, so events of different threads compare. */
  private readonly origin = performance.timeOrigin;

  constructor(handle: TraceRingHandle) {
    this.header = new Int32Array(handle.header);
    this.events = new Float64Array(handle.events);
    this.names = new Uint8Array(handle.names);
    this.sequence = new Int32Array(handle.sequence);
    this.capacity = this.events.length / FIELDS;
    this.written = Atomics.load(this.header, HEADER_WRITTEN);
    this.readSeen = Atomics.load(this.header, HEADER_READ);
    this.nameEnd = Atomics.load(this.header, HEADER_NAME_BYTES);
  }

  record(kind: TraceKindCode, causality: number, peer: number, callId: number, name: string | number, extra: number): void {
    const w = this.written;
    // The reader's position is read again only when the one seen last says the ring is full.
    if (w - this.readSeen >= this.capacity && w - (this.readSeen = Atomics.load(this.header, HEADER_READ)) >= this.capacity) {
      Atomics.add(this.header, HEADER_DROPPED, 1);
      return;
    }
    const at = (w % this.capacity) * FIELDS;
    const ev = this.events;
    ev[at] = Atomics.add(this.sequence, 0, 1);
    ev[at + 1] = this.origin + performance.now();
    ev[at + 2] = kind;
    ev[at + 3] = causality;
    ev[at + 4] = peer;
    ev[at + 5] = callId;
    ev[at + 6] = typeof name === 'number' ? -(name + 1) : this.nameId(name);
    ev[at + 7] = extra;
    this.written = w + 1;
    Atomics.store(this.header, HEADER_WRITTEN, w + 1);
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
  private readonly events: Float64Array;
  private readonly names: Uint8Array;
  private readonly capacity: number;
  private readonly decoded = new Map<number, string>();
  private readonly decoder = new TextDecoder();

  constructor(readonly handle: TraceRingHandle) {
    this.header = new Int32Array(handle.header);
    this.events = new Float64Array(handle.events);
    this.names = new Uint8Array(handle.names);
    this.capacity = this.events.length / FIELDS;
  }

  /** Events dropped because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.header, HEADER_DROPPED);
  }

  /** Copy out every event written since the last drain and free their room: one or two copies of memory, no objects. */
  drainRaw(): Float64Array | undefined {
    const w = Atomics.load(this.header, HEADER_WRITTEN);
    const r = Atomics.load(this.header, HEADER_READ);
    if (w === r) return undefined;
    const from = (r % this.capacity) * FIELDS;
    const to = (w % this.capacity) * FIELDS;
    let copy: Float64Array;
    if (from < to) copy = this.events.slice(from, to);
    else {
      // Wrapped: the tail of the ring, then its head.
      copy = new Float64Array((w - r) * FIELDS);
      copy.set(this.events.subarray(from), 0);
      copy.set(this.events.subarray(0, to), this.events.length - from);
    }
    Atomics.store(this.header, HEADER_READ, w);
    return copy;
  }

  /** The events of a chunk drainRaw() returned, as objects. */
  decode(chunk: Float64Array): RawTraceEvent[] {
    const out: RawTraceEvent[] = [];
    for (let at = 0; at < chunk.length; at += FIELDS) {
      out.push({
        seq: chunk[at]!, time: chunk[at + 1]!, kind: chunk[at + 2]! as TraceKindCode, apartment: this.handle.apartment,
        causality: chunk[at + 3]!, peer: chunk[at + 4]!, callId: chunk[at + 5]!, name: this.nameOf(chunk[at + 6]!), extra: chunk[at + 7]!,
      });
    }
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
      const length = this.names[start]! | (this.names[start + 1]! << 8);
      name = this.decoder.decode(this.names.slice(start + 2, start + 2 + length));
      this.decoded.set(id, name);
    }
    return name;
  }
}

/** The kinds by name, for exporters and readers. */
export const TRACE_KIND_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(TraceKind).map(([k, v]) => [v, k]));
