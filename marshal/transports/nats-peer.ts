// One node's session with another over NATS, seen as an IPC peer (ipc-transport.ts), so the tagged
// link transport and its router carry the apartments' links over it unchanged: every message
// [tag, link, payload] goes to the other node's inbox subject as one frame, or as parts when it is
// larger than the server lets one NATS message be. Core NATS delivers at most once, so each frame
// carries the session's sequence number and a gap ends the session ('gap', then 'disconnect')
// instead of losing a call silently. A session has an id that its opener makes from its own epoch
// and a count, and the other node accepts it only with a hello from that epoch: frames of another
// session (an earlier one, or one of a node's earlier epoch) never reach it (the node's router
// drops them). A message whose payload is a one-byte string (an encoded batch, what a session
// mostly carries) goes as a text frame: a fixed header and the string's bytes, written and read
// without a v8 serializer, whose making and reading cost ≈ 4.7 µs a frame against 0.5 µs. Anything
// else goes as v8.serialize of the six fields. The thread that owns the session only.
import { EventEmitter } from 'node:events';
import { DefaultSerializer, serialize } from 'node:v8';
import { TOO_LARGE } from '../errors.js';
import { builtBytes, checkWeight } from './frame-weight.js';
import { deserializeOwned } from './owned-deserializer.js';
import type { ReassemblyBudget } from './reassembly-budget.js';

/** The tag of a part of a message too large for one NATS message: [.., Part, index, [count, bytes]]. */
const PART_TAG = 'apartment:part';
/** The largest message a session carries in parts; a larger one is refused when it is sent. */
export const MAX_NATS_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Room left in each NATS message for the frame's header. */
const FRAME_HEADER_ROOM = 1_024;
/**
 * The least a part other than the last carries, and so the most parts a message has: a sender
 * splits at the server's max_payload less FRAME_HEADER_ROOM, far more than this, while a peer that
 * sent parts of a byte each (or none) could make a receiver hold millions of them.
 */
const MIN_PART_BYTES = 512;
const MAX_PARTS = Math.ceil(MAX_NATS_MESSAGE_BYTES / MIN_PART_BYTES);

/** A frame as it arrives: who sent it, in which session, its sequence number, and the message. */
export interface NatsFrame {
  readonly from: string;
  readonly session: string;
  readonly seq: number;
  readonly tag: string;
  readonly link: number;
  readonly payload: unknown;
}

/**
 * v8's serializer failing as structured clone does: what cannot be copied throws a DataCloneError
 * (the transport contract; the outbox then fails only the messages that cannot go). v8.serialize
 * throws a plain Error instead. Errors thrown by the value itself (a getter) pass through as they are.
 */
class FrameSerializer extends DefaultSerializer {
  /** Called by Node for every value the serializer cannot copy (a function, a symbol, …). */
  _getDataCloneError(message: string): Error {
    return new DOMException(message, 'DataCloneError');
  }

  /** Called by Node for a SharedArrayBuffer: other nodes share no memory with this one. */
  _getSharedArrayBufferId(): number {
    throw new DOMException('#<SharedArrayBuffer> could not be cloned: another node shares no memory with this one', 'DataCloneError');
  }
}

/** Serialize a frame; throws DataCloneError for what cannot be copied. */
function serializeFrame(value: unknown): Buffer {
  const serializer = new FrameSerializer();
  serializer.writeHeader();
  serializer.writeValue(value);
  return serializer.releaseBuffer();
}

/**
 * The first byte of a text frame: [TEXT_FRAME, from length, from, session length, session, tag
 * length, tag, seq (f64 LE), link (u32 LE), payload], names and tag in UTF-8 of at most 255 bytes,
 * the payload's characters one byte each. A v8-serialized frame starts with 0xFF, its version tag.
 */
const TEXT_FRAME = 0xb1;
/** Bytes of a text frame's seq and link. */
const TEXT_NUMBERS = 12;
/** How many tags a session keeps encoded for its text frames. */
const MAX_KEPT_TAGS = 64;
/** Characters that a one-byte (latin1) string never holds. */
const WIDE_CHARACTER = /[^\u0000-\u00ff]/;

/** `text` as [length, UTF-8 bytes] for a text frame's header, or undefined when it is longer than 255 bytes. */
function headerField(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.byteLength <= 255 ? Buffer.concat([Buffer.from([bytes.byteLength]), bytes]) : undefined;
}

/** Read the [length, UTF-8 bytes] field at `offset`, or undefined when it runs past `bytes`. */
function readField(bytes: Buffer, offset: number): { text: string; next: number } | undefined {
  if (offset >= bytes.byteLength) return undefined;
  const next = offset + 1 + bytes[offset]!;
  if (next > bytes.byteLength) return undefined;
  return { text: bytes.toString('utf8', offset + 1, next), next };
}

/** A text frame's fields; a sentence when they do not fit the bytes. Peers are not trusted. */
function decodeTextFrame(bytes: Buffer): NatsFrame | string {
  const from = readField(bytes, 1);
  const session = from && readField(bytes, from.next);
  const tag = session && readField(bytes, session.next);
  if (!tag || tag.next + TEXT_NUMBERS > bytes.byteLength) return 'a text frame shorter than its header';
  const seq = bytes.readDoubleLE(tag.next);
  const link = bytes.readUInt32LE(tag.next + 8);
  if (!Number.isSafeInteger(seq) || seq < 0) return 'a frame whose sequence or link number is not a whole number';
  const payload = bytes.toString('latin1', tag.next + TEXT_NUMBERS);
  return { from: from.text, session: session.text, seq, tag: tag.text, link, payload };
}

/** Decode a frame from another node's bytes, or say why they are not one. Peers are not trusted. */
export function decodeFrame(bytes: Uint8Array): NatsFrame | string {
  if (bytes.byteLength > 0 && bytes[0] === TEXT_FRAME) {
    return decodeTextFrame(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
  const built = builtBytes(bytes);
  if (typeof built !== 'number') return built.tooLarge ? `a frame larger than a session rebuilds (${built.why})` : `bytes that do not deserialize as one value a session reads (${built.why})`;
  let value: unknown;
  try {
    value = deserializeOwned(bytes);
  } catch (err) {
    return `bytes that do not deserialize (${(err as Error)?.message ?? String(err)})`;
  }
  if (!Array.isArray(value) || value.length !== 6) return 'a frame that is not [from, session, seq, tag, link, payload]';
  const [from, session, seq, tag, link, payload] = value as unknown[];
  if (typeof from !== 'string' || typeof session !== 'string' || typeof tag !== 'string') return 'a frame whose sender, session or tag is not a string';
  if (!Number.isSafeInteger(seq) || (seq as number) < 0 || !Number.isSafeInteger(link) || (link as number) < 0) return 'a frame whose sequence or link number is not a whole number';
  return { from, session, seq: seq as number, tag, link: link as number, payload };
}

/** What a session needs from its node: its name, where its frames go, and how large one NATS message may be. */
export interface NatsSessionWire {
  readonly name: string;
  /** Publish one frame to the other node's inbox (fire and forget; core NATS). */
  publish(bytes: Uint8Array): void;
  readonly maxPayload: number;
  /** Where to keep [frames sent, frames received] for another thread to read, if anywhere. */
  readonly counters?: BigInt64Array | undefined;
  /** The allowance this session's unfinished parted messages share with the node's other sessions, if any. */
  readonly reassembly?: ReassemblyBudget | undefined;
}

/** Events of a session besides the IPC peer's 'message' and 'disconnect'. */
type SessionEvents = {
  message: [message: unknown];
  disconnect: [];
  /** A frame is missing: the session is over; the sentence says which. Fires before 'disconnect'. */
  gap: [description: string];
};

/** This node's session `id` with node `node`. */
export class NatsPeer extends EventEmitter<SessionEvents> {
  private outSeq = 0;
  private inSeq = 0;
  /** Frames the other node said (at a heartbeat) it had sent: all must have come by the next one. */
  private owed: number | undefined;
  private parts: Uint8Array[] = [];
  private partBytes = 0;
  /** How many parts the message being put together has, as its first part said. */
  private partCount = 0;
  /** Heartbeat counts (confirm()) so far, and how many there had been when the message being put together began. */
  private confirms = 0;
  private partsBegan = 0;
  /** When the last part of the message being put together arrived (ms since the epoch). */
  private lastPartAt = 0;
  /** expireParts() calls since the message began, parts held at the last one, and calls in a row without a new part. */
  private partChecks = 0;
  private partsSeen = 0;
  private stalledChecks = 0;
  private open = true;

  /** The [from, session, seq, tag, link, payload] every v8 frame is serialized from (send()). */
  private readonly frame: [string, string, number, string, number, unknown];
  /** A text frame's first bytes (its kind, from, session), or undefined when a name is too long for one. */
  private readonly textHeader: Buffer | undefined;
  /** Each tag this session sent in a text frame, as its header field (a session sends a handful). */
  private readonly tagFields = new Map<string, Buffer | undefined>();

  constructor(private readonly wire: NatsSessionWire, readonly node: string, readonly id: string) {
    super();
    this.frame = [wire.name, id, 0, '', 0, null];
    const from = headerField(wire.name);
    const session = headerField(id);
    this.textHeader = from && session ? Buffer.concat([Buffer.from([TEXT_FRAME]), from, session]) : undefined;
  }

  get connected(): boolean {
    return this.open;
  }

  /** Send [tag, link, payload]; throws DataCloneError (nothing sent) for what cannot be copied. */
  send(message: unknown, _handle?: undefined, _options?: undefined, callback?: (error: Error | null) => void): boolean {
    if (!this.open) {
      callback?.(new Error('[node-session] the session with the other node is over'));
      return false;
    }
    const [tag, link, payload] = message as [string, number, unknown];
    const text = this.textFrame(tag, link, payload);
    const whole = text ?? this.v8Frame(tag, link, payload);
    if (whole.byteLength <= this.wire.maxPayload) {
      // What the other node would refuse (and end the session for) is refused here, to this call.
      if (!text) checkWeight(whole, 'a node session');
      this.outSeq++;
      this.wire.publish(whole);
    } else {
      const bytes = serializeFrame([tag, link, payload]);
      checkWeight(bytes, 'a node session');
      this.sendInParts(bytes);
    }
    if (this.wire.counters) Atomics.store(this.wire.counters, 0, BigInt(this.outSeq));
    callback?.(null);
    return true;
  }

  /** [tag, link, payload] as a v8 frame with the next sequence number; throws DataCloneError for what cannot be copied. */
  private v8Frame(tag: string, link: number, payload: unknown): Buffer {
    // One frame array per session, filled for each send: a v8 serializer holds what it wrote until
    // it is collected, and a new frame per call was so alive at every scavenge (ipc-transport.ts).
    const frame = this.frame;
    frame[2] = this.outSeq;
    frame[3] = tag;
    frame[4] = link;
    frame[5] = payload;
    try {
      return serializeFrame(frame);
    } finally {
      frame[5] = null;
    }
  }

  /** [tag, link, payload] as a text frame with the next sequence number, or undefined when it cannot be one. */
  private textFrame(tag: string, link: number, payload: unknown): Buffer | undefined {
    if (typeof payload !== 'string' || !this.textHeader || !(link >= 0 && link <= 0xffff_ffff && Number.isInteger(link))) return undefined;
    const tagField = this.tagField(tag);
    if (!tagField) return undefined;
    const header = this.textHeader.byteLength + tagField.byteLength + TEXT_NUMBERS;
    if (header + payload.length > this.wire.maxPayload || WIDE_CHARACTER.test(payload)) return undefined;
    const bytes = Buffer.allocUnsafe(header + payload.length);
    let at = this.textHeader.copy(bytes, 0);
    at += tagField.copy(bytes, at);
    at = bytes.writeDoubleLE(this.outSeq, at);
    at = bytes.writeUInt32LE(link, at);
    bytes.write(payload, at, 'latin1');
    return bytes;
  }

  /** `tag` as a text frame's header field (kept for the next frame), or undefined when it cannot be one. */
  private tagField(tag: string): Buffer | undefined {
    if (this.tagFields.has(tag)) return this.tagFields.get(tag);
    const field = headerField(tag);
    // A session sends a handful of tags; a peer of ours never makes this grow past that.
    if (this.tagFields.size < MAX_KEPT_TAGS) this.tagFields.set(tag, field);
    return field;
  }

  private sendInParts(bytes: Uint8Array): void {
    if (bytes.byteLength > MAX_NATS_MESSAGE_BYTES) {
      throw new DOMException(`${TOO_LARGE} a message of ${bytes.byteLength} bytes is larger than a node session carries (${MAX_NATS_MESSAGE_BYTES}); pass a smaller value, or a reference to where the data is`, 'DataCloneError');
    }
    const size = Math.max(1, this.wire.maxPayload - FRAME_HEADER_ROOM);
    const count = Math.ceil(bytes.byteLength / size);
    for (let i = 0; i < count; i++) {
      this.wire.publish(serialize([this.wire.name, this.id, this.outSeq++, PART_TAG, i, [count, bytes.subarray(i * size, (i + 1) * size)]]));
    }
  }

  /** Frames sent on this session so far: the other node hears the count with each heartbeat. */
  get sent(): number {
    return this.outSeq;
  }

  /**
   * The other node had sent `sent` frames when it answered or sent a heartbeat. A frame lost last
   * of all has no later frame to show the gap, so the count shows it: a heartbeat later, every frame
   * it names must have come (a whole period leaves room for frames still on their way).
   */
  confirm(sent: number): void {
    if (!this.open || !Number.isSafeInteger(sent)) return;
    if (this.owed !== undefined && this.inSeq < this.owed) {
      return this.fail(`[link-gap] node '${this.node}' had sent ${this.owed} frames a heartbeat ago and only ${this.inSeq} came (NATS delivers at most once; a server that went away took the rest); the session is ended so no call waits for an answer that cannot come`);
    }
    this.owed = sent > this.inSeq ? sent : undefined;
    // A node publishes a message's parts in one go, and its heartbeat on the same connection, so the
    // heartbeat that follows the first part follows the last too: parts still missing two heartbeats
    // on were never sent, and what came of them would be held for good. (A host confirms its
    // apartments' sessions with counts its node's main connection sends, not ordered with their
    // parts; there the gap rule above already ends a session whose frames are a heartbeat late.)
    this.confirms++;
    if (this.parts.length > 0 && this.confirms - this.partsBegan >= 2) {
      return this.fail(`[malformed-frame] node '${this.node}' began a message of ${this.partCount} parts and sent only ${this.parts.length} of them over two heartbeats`);
    }
  }

  /**
   * Called once a period while the loop of the thread that owns the session runs (parts-watch.ts:
   * an apartment's session has no heartbeat counts), after a poll phase that began at `readBy`
   * (ms since the epoch). A parted message ends the session when no part of it came at two calls in
   * a row and none for more than `maxAgeMs` (its sender stopped: what came would be held for good),
   * or when it is still unfinished after `maxChecks` calls (a sender that drips a part now and then
   * to hold its share of the node's allowance). Counted in calls, not time, so a thread busy in a
   * long synchronous call, which reads nothing meanwhile, does not end an honest message for it.
   */
  expireParts(readBy: number, maxAgeMs: number, maxChecks: number): void {
    if (!this.open || this.parts.length === 0) return;
    this.partChecks++;
    this.stalledChecks = this.parts.length === this.partsSeen ? this.stalledChecks + 1 : 0;
    this.partsSeen = this.parts.length;
    if (this.stalledChecks >= 2 && readBy - this.lastPartAt > maxAgeMs) {
      return this.fail(`[malformed-frame] node '${this.node}' began a message of ${this.partCount} parts, sent ${this.parts.length} of them, and then none for ${readBy - this.lastPartAt} ms`);
    }
    if (this.partChecks > maxChecks) {
      this.fail(`[malformed-frame] node '${this.node}' began a message of ${this.partCount} parts and had sent only ${this.parts.length} of them after ${maxChecks} periods`);
    }
  }

  /** A frame of this session from the node's router, in arrival order. */
  receive(frame: NatsFrame): void {
    if (!this.open) return;
    // Core NATS may drop but never duplicates or reorders what one connection publishes to one subject.
    if (frame.seq < this.inSeq) return;
    if (frame.seq > this.inSeq) {
      return this.fail(`[link-gap] frames ${this.inSeq}–${frame.seq - 1} from node '${this.node}' were lost (NATS delivers at most once; a slow consumer or a server restart drops messages); the session is ended so no call is lost silently`);
    }
    this.inSeq++;
    if (this.wire.counters) Atomics.store(this.wire.counters, 1, BigInt(this.inSeq));
    if (frame.tag !== PART_TAG) {
      if (this.parts.length > 0) return this.fail(`[malformed-frame] node '${this.node}' sent a message in the middle of a parted one`);
      this.emit('message', [frame.tag, frame.link, frame.payload]);
      return;
    }
    const [count, bytes] = Array.isArray(frame.payload) ? (frame.payload as unknown[]) : [];
    if (!Number.isSafeInteger(count) || !(bytes instanceof Uint8Array) || frame.link !== this.parts.length || (count as number) <= frame.link) {
      return this.fail(`[malformed-frame] node '${this.node}' sent a part out of order or without its bytes`);
    }
    if (frame.link === 0) {
      this.partCount = count as number;
      this.partsBegan = this.confirms;
      this.partChecks = this.partsSeen = this.stalledChecks = 0;
    }
    this.lastPartAt = Date.now();
    const last = frame.link === this.partCount - 1;
    if (count !== this.partCount || this.partCount > MAX_PARTS || bytes.byteLength === 0 || (!last && bytes.byteLength < MIN_PART_BYTES)) {
      return this.fail(`[malformed-frame] node '${this.node}' sent parts that do not add up (a count that changed or exceeds ${MAX_PARTS}, or a part under ${MIN_PART_BYTES} bytes before the last)`);
    }
    if (this.partBytes + bytes.byteLength > MAX_NATS_MESSAGE_BYTES) return this.fail(`[malformed-frame] node '${this.node}' sent a message larger than ${MAX_NATS_MESSAGE_BYTES} bytes`);
    const taking = this.wire.reassembly?.take(bytes.byteLength) ?? 'taken';
    if (taking !== 'taken') return this.fail(this.busy(taking));
    this.partBytes += bytes.byteLength;
    // Its own bytes only: a part that views a larger buffer (a frame read some other way than
    // decodeFrame, which gives each view its own) would keep that buffer whole.
    const owns = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    this.parts.push(owns ? bytes : Uint8Array.prototype.slice.call(bytes));
    if (!last) return;
    const whole = Buffer.concat(this.parts);
    this.dropParts();
    const built = builtBytes(whole);
    if (typeof built !== 'number') return this.fail(`[malformed-frame] node '${this.node}' sent parts that do not make a message a session takes (${built.why})`);
    let message: unknown;
    try {
      message = deserializeOwned(whole);
    } catch {
      return this.fail(`[malformed-frame] node '${this.node}' sent parts that do not make a message`);
    }
    if (!Array.isArray(message) || message.length !== 3 || typeof message[0] !== 'string' || !(Number.isSafeInteger(message[1]) && message[1] >= 0 && message[1] <= 0xffff_ffff)) {
      return this.fail(`[malformed-frame] node '${this.node}' sent a parted message that is not [tag, link, payload]`);
    }
    this.emit('message', message);
  }

  /** Why a part found no room: the node's allowance is used up, or the sender's share of it. */
  private busy(taking: 'node-full' | 'share-full'): string {
    const { limit, shareLimit } = this.wire.reassembly!;
    return taking === 'share-full'
      ? `[node-busy] node '${this.node}' sent a message in parts while its sessions with this node already hold ${shareLimit} bytes of unfinished parted messages, its share (half) of this node's allowance of ${limit}; the session is ended so no call waits for it: finish the parted messages begun before sending more, or send smaller values`
      : `[node-busy] node '${this.node}' sent a message in parts while this node already holds ${limit} bytes of unfinished parted messages of its sessions; the session is ended so no call waits for it: send smaller values, or retry once the node is less busy`;
  }

  /** End the session: every link on it ends ('disconnect'). */
  disconnect(): void {
    if (!this.open) return;
    this.open = false;
    this.dropParts();
    this.emit('disconnect');
  }

  /** Let go of the parts held, giving their bytes back to the node's allowance. */
  private dropParts(): void {
    this.wire.reassembly?.give(this.partBytes);
    this.parts = [];
    this.partBytes = 0;
  }

  private fail(description: string): void {
    if (!this.open) return;
    try {
      this.emit('gap', description);
    } finally {
      this.disconnect();
    }
  }
}
