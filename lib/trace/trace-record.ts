// The compact form of a trace event in an apartment's ring: one byte of kind and flags, then each
// field as a variable-length number, most of them as the difference from the same field of the
// ring's previous event. A call's events then take 6–12 bytes instead of tens: every byte an event
// takes is written once into the ring and copied once more into the host's trace, and a trace keeps
// every event, so fresh memory is what tracing costs most (docs/performance.md).
//
// Numbers are written as a code: 0 means the number follows as 8 raw bytes (anything that is not a
// whole number of at most 51 bits, e.g. a fractional marker value or a hostile peer's call id);
// otherwise the code is 1 + the zigzag of the value (2v + 1 for v ≥ 0, -2v for v < 0), in 7-bit
// groups, low group first. The encoder and the decoder keep the same previous-event state; a Reset
// record (written first by every writer) sets both back and carries the writer's clock origin.
import type { TraceKindCode } from '../../marshal/trace-hook.js';

/** No record is longer than this (kind byte, seven fields of at most 9 bytes). */
export const RECORD_MAX_BYTES = 64;
/** The kind of the record that starts a writer's stream: 8 bytes of clock origin follow. */
const RESET = 15;
const KIND_MASK = 0x0f;
const SAME_CAUSALITY = 0x10;
const SAME_PEER = 0x20;
const SAME_NAME = 0x40;
const ZERO_EXTRA = 0x80;
/** Values whose zigzag code stays exact in a double. */
const DELTA_LIMIT = 2 ** 51;

/** One event as the host reads it. */
export interface RawTraceEvent {
  readonly seq: number;
  /** Wall-clock milliseconds (the writing thread's performance.timeOrigin + performance.now()). */
  readonly time: number;
  readonly kind: TraceKindCode;
  readonly apartment: number;
  readonly causality: number;
  /** The other apartment, or -1. */
  readonly peer: number;
  /** The channel's call id, or -1. */
  readonly callId: number;
  readonly name: string;
  readonly extra: number;
}

/** The previous event's fields, as both sides track them. */
class PreviousEvent {
  seq = 0;
  nanos = 0;
  causality = -1;
  peer = -1;
  callId = 0;
  name = 0;
}

/** Writes records into a power-of-two ring of bytes at a running position. Owner: the ring's writer. */
export class TraceRecordEncoder {
  private last = new PreviousEvent();
  private readonly raw = new Float64Array(1);
  private readonly rawBytes = new Uint8Array(this.raw.buffer);
  /** Where the next byte goes (grows without bound; masked on every write). */
  position = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly mask: number,
  ) {}

  /** Start a stream: both sides forget the previous event; `origin` is this thread's clock origin. */
  reset(origin: number): void {
    this.last = new PreviousEvent();
    this.bytes[this.position++ & this.mask] = RESET;
    this.rawNumber(origin);
  }

  /** One event; `seq` is an int32 (the shared counter wraps), `nanos` this thread's clock in ns. */
  encode(kind: TraceKindCode, seq: number, nanos: number, causality: number, peer: number, callId: number, name: number, extra: number): void {
    const last = this.last;
    const at = this.position++;
    let head: number = kind;
    this.delta((seq - last.seq) | 0, 0);
    last.seq = seq;
    this.varint(nanos > last.nanos ? nanos - last.nanos : 0);
    if (nanos > last.nanos) last.nanos = nanos;
    if (causality === last.causality) head |= SAME_CAUSALITY;
    else {
      this.delta(causality, last.causality);
      last.causality = causality;
    }
    if (peer === last.peer) head |= SAME_PEER;
    else {
      this.delta(peer, 0);
      last.peer = peer;
    }
    this.delta(callId, last.callId);
    last.callId = callId;
    if (name === last.name) head |= SAME_NAME;
    else {
      this.delta(name, 0);
      last.name = name;
    }
    if (extra === 0) head |= ZERO_EXTRA;
    else this.delta(extra, 0);
    this.bytes[at & this.mask] = head;
  }

  /** `value` as the difference from `base`, or raw when either is not a small whole number. */
  private delta(value: number, base: number): void {
    const d = value - base;
    if (Number.isSafeInteger(value) && Number.isSafeInteger(base) && d < DELTA_LIMIT && d > -DELTA_LIMIT) {
      this.varint(d >= 0 ? d * 2 + 1 : -d * 2);
    } else {
      this.bytes[this.position++ & this.mask] = 0;
      this.rawNumber(value);
    }
  }

  /** A whole number ≥ 0 in 7-bit groups; `& 0x7f` keeps the low bits of any safe integer. */
  private varint(v: number): void {
    const bytes = this.bytes;
    const mask = this.mask;
    let p = this.position;
    while (v > 0x7f) {
      bytes[p++ & mask] = (v & 0x7f) | 0x80;
      v = v < 0x8000_0000 ? v >>> 7 : Math.floor(v / 128);
    }
    bytes[p++ & mask] = v;
    this.position = p;
  }

  private rawNumber(value: number): void {
    this.raw[0] = value;
    for (let i = 0; i < 8; i++) this.bytes[this.position++ & this.mask] = this.rawBytes[i]!;
  }
}

/** Reads the records of one ring's stream, chunk after chunk, in order. Owner: the host's reader. */
export class TraceRecordDecoder {
  private last = new PreviousEvent();
  private origin = Number.NaN;
  private readonly raw = new Float64Array(1);
  private readonly rawBytes = new Uint8Array(this.raw.buffer);
  private chunk: Uint8Array = new Uint8Array(0);
  private at = 0;
  /** Set once a record made no sense; the stream is not read further (its state is lost). */
  malformed = false;

  constructor(
    private readonly apartment: number,
    private readonly nameOf: (id: number) => string,
  ) {}

  /** Append the events of `chunk` (the next bytes of the stream) to `out`. */
  decode(chunk: Uint8Array, out: RawTraceEvent[]): void {
    if (this.malformed) return;
    this.chunk = chunk;
    this.at = 0;
    while (this.at < chunk.length) {
      if (!this.record(out)) {
        this.malformed = true;
        return;
      }
    }
  }

  private record(out: RawTraceEvent[]): boolean {
    const head = this.chunk[this.at++]!;
    const kind = head & KIND_MASK;
    if (kind === RESET) {
      this.last = new PreviousEvent();
      this.origin = this.rawNumber();
      return !Number.isNaN(this.origin);
    }
    // A record before its stream's Reset, or of no kind, is not a record.
    if (kind === 0 || Number.isNaN(this.origin)) return false;
    const last = this.last;
    const seqDelta = this.delta(0);
    const nanos = this.varint();
    if (Number.isNaN(seqDelta) || Number.isNaN(nanos)) return false;
    last.seq = (last.seq + seqDelta) | 0;
    last.nanos += nanos;
    if (!(head & SAME_CAUSALITY)) last.causality = this.delta(last.causality);
    if (!(head & SAME_PEER)) last.peer = this.delta(0);
    last.callId = this.delta(last.callId);
    if (!(head & SAME_NAME)) last.name = this.delta(0);
    const extra = head & ZERO_EXTRA ? 0 : this.delta(0);
    // A field cut short reads as NaN (fractional or NaN values that were written raw are real).
    if (this.at > this.chunk.length) return false;
    out.push({
      seq: last.seq >>> 0, time: this.origin + last.nanos / 1e6, kind: kind as TraceKindCode, apartment: this.apartment,
      causality: last.causality, peer: last.peer, callId: last.callId, name: this.nameOf(last.name), extra,
    });
    return true;
  }

  private delta(base: number): number {
    if (this.at >= this.chunk.length) {
      this.at++;
      return Number.NaN;
    }
    if (this.chunk[this.at] === 0) {
      this.at++;
      return this.rawNumber();
    }
    const code = this.varint();
    return base + (code % 2 === 1 ? (code - 1) / 2 : -code / 2);
  }

  /** NaN when the number runs past the chunk or past 8 groups (no writer writes that). */
  private varint(): number {
    const chunk = this.chunk;
    let value = 0;
    let scale = 1;
    for (let group = 0; group < 8; group++) {
      if (this.at >= chunk.length) {
        this.at = chunk.length + 1;
        return Number.NaN;
      }
      const byte = chunk[this.at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    this.at = chunk.length + 1;
    return Number.NaN;
  }

  private rawNumber(): number {
    if (this.at + 8 > this.chunk.length) {
      this.at = this.chunk.length + 1;
      return Number.NaN;
    }
    for (let i = 0; i < 8; i++) this.rawBytes[i] = this.chunk[this.at++]!;
    return this.raw[0]!;
  }
}
