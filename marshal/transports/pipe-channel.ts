// A process's message channel to its host or child over a byte pipe (the socket pair at one stdio
// slot): each message is v8.serialize'd and written as one frame, a 4-byte big-endian length and
// then that many bytes. It stands where node:child_process's IPC channel stood for process
// apartments, because that channel reads a frame of any length and deserializes it before any
// listener sees it: a child whose plugin sent a gigabyte of one repeated string (a short value
// that serializes huge) made the host run out of memory, and a larger one threw from inside Node.
// Here a frame is refused by its length before its bytes are kept, so what a hostile child costs
// its host is bounded: at most one frame's bytes held, and what v8.deserialize makes of them.
// One side per process and pipe; the thread that made it only.
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { serialize } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import { CallRejectedError, ProtocolError } from '../errors.js';
import { checkFrame, MAX_FRAME_BYTES } from './frame-check.js';
import { builtBytes } from './frame-weight.js';
import { deserializeOwned } from './owned-deserializer.js';
import type { IpcPeer } from './ipc-transport.js';

/**
 * How many written bytes the other side may leave unread before this side sends it no more
 * batches (backlogRefusal): two frames of the largest size. Node's streams buffer without limit, so
 * a child that stopped reading (stopped, hung, or a plugin that pauses the pipe) made its host keep
 * every call it was sent in memory until the host ran out of it.
 */
export const MAX_BACKLOG_BYTES = 2 * MAX_FRAME_BYTES;

const HEAD_BYTES = 4;

/** The events of a pipe channel: a message, its end, and (before the end) why the other side was cut off. */
interface PipeChannelEvents {
  message: [message: unknown];
  disconnect: [];
  fault: [error: ProtocolError];
}

/** One end of a framed message pipe between two processes; an IpcPeer, so IPC links run over it unchanged. */
export class PipeChannel implements IpcPeer {
  private open = true;
  private readonly events = new EventEmitter<PipeChannelEvents>();
  /** Bytes received and not yet read as frames, in arrival order; `buffered` is their sum. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** The length of the frame being received, once its head was read; -1 while waiting for a head. */
  private frameBytes = -1;
  /** Why this side cut the other off, if it did. */
  faultCause: ProtocolError | undefined;

  /** `who` names the other side in fault messages ("process 1234"). */
  constructor(private readonly socket: Socket, private readonly who: string, private readonly maxFrameBytes = MAX_FRAME_BYTES, private readonly maxBacklogBytes = MAX_BACKLOG_BYTES) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    // A pipe that breaks or ends belongs to a process that is going: the channel ends with it.
    socket.on('error', () => this.end());
    socket.on('close', () => this.end());
    socket.on('end', () => this.end());
  }

  get connected(): boolean {
    return this.open;
  }

  /** The pipe's handle, for keeping this process alive on it or not. */
  get channel(): { ref(): void; unref(): void } {
    return this.socket;
  }

  on(event: 'message', listener: (message: unknown) => void): this;
  on(event: 'disconnect', listener: () => void): this;
  on(event: 'fault', listener: (error: ProtocolError) => void): this;
  on(event: keyof PipeChannelEvents, listener: (...args: never[]) => void): this {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /**
   * Write `message` as one frame. Serialization happens here, synchronously: what cannot be cloned,
   * or serializes larger than a frame, throws a DataCloneError with nothing written. A write that
   * fails later (the other side died) reaches `callback`; the channel's end follows.
   */
  send(message: unknown, _handle?: undefined, _options?: undefined, callback?: (error: Error | null) => void): boolean {
    if (!this.open) {
      callback?.(new Error('the channel is closed'));
      return false;
    }
    const body = serialize(message);
    checkFrame(body, this.maxFrameBytes);
    const head = Buffer.allocUnsafe(HEAD_BYTES);
    head.writeUInt32BE(body.byteLength, 0);
    this.socket.cork();
    this.socket.write(head);
    this.socket.write(body, callback && ((err) => callback(err ?? null)));
    this.socket.uncork();
    return true;
  }

  /**
   * The refusal (CallRejectedError, retry later) of a batch while the other side has left more than
   * the backlog bound unread; undefined otherwise. A batch that carries calls or answers is then
   * refused before it is serialized (ipc-transport.ts), so its calls fail at once instead of waiting
   * in this process's memory; bookkeeping and control messages (boot, terminate, close) always go.
   */
  backlogRefusal(): CallRejectedError | undefined {
    const unread = this.socket.writableLength;
    if (unread <= this.maxBacklogBytes) return undefined;
    return new CallRejectedError(
      `[pipe-backlog] ${this.who} has left ${unread} bytes this side wrote unread (at most ${this.maxBacklogBytes}): it is stopped, hung or not reading, so nothing more is sent to it for now; retry later (callOptions({ retry })), or end the process if it stays stuck`,
      { code: 'RPC_E_SERVERCALL_RETRYLATER' },
    );
  }

  /** End the channel from this side: the other side sees its pipe end. */
  disconnect(): void {
    this.socket.end();
    this.end();
  }

  private receive(chunk: Buffer): void {
    if (!this.open) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.open) {
      if (this.frameBytes < 0) {
        if (this.buffered < HEAD_BYTES) return;
        const n = this.take(HEAD_BYTES).readUInt32BE(0);
        if (n === 0 || n > this.maxFrameBytes) return this.fault(`${this.who} sent a frame of ${n} bytes (1 to ${this.maxFrameBytes} allowed)`);
        this.frameBytes = n;
      }
      if (this.buffered < this.frameBytes) return;
      const body = this.take(this.frameBytes);
      this.frameBytes = -1;
      // Weighed before it is built: a frame of tiny objects deserializes into many times its size.
      const built = builtBytes(body);
      if (typeof built !== 'number') return this.fault(`${this.who} sent a frame that is not one serialized value the channel takes (${built.why})`);
      let message: unknown;
      try {
        // Each typed array on bytes of its own (owned-deserializer.ts): Node's deserializer builds
        // them on `body`, which views the socket's chunk (or Buffer's shared pool) with other
        // frames' bytes in it, and a peer could hang a whole frame of padding on a 1-byte array.
        message = deserializeOwned(body);
      } catch (err) {
        return this.fault(`${this.who} sent a frame that is not one serialized value (${(err as Error)?.message ?? err})`);
      }
      this.events.emit('message', message);
    }
  }

  /** The first `n` buffered bytes, taken off the buffer (n ≤ buffered). */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) return this.chunks.shift()!;
    let count = 0;
    let have = 0;
    while (have < n) have += this.chunks[count++]!.length;
    const parts = this.chunks.splice(0, count);
    const whole = Buffer.concat(parts, have);
    if (have > n) this.chunks.unshift(whole.subarray(n));
    return whole.subarray(0, n);
  }

  /** The other side broke the framing: cut it off, and say why before the end. */
  private fault(why: string): void {
    this.faultCause = new ProtocolError(`[pipe-frame] ${why}; the channel was closed — a process that breaks the protocol is cut off`);
    this.events.emit('fault', this.faultCause);
    this.socket.destroy();
    this.end();
  }

  private end(): void {
    if (!this.open) return;
    this.open = false;
    this.chunks = [];
    this.buffered = 0;
    this.events.emit('disconnect');
  }
}

/** The child's stdio slot its channel to the host is opened at (0–2 are stdio, 4 the heartbeat pipe). */
export const CHANNEL_FD = 3;

/** The environment variable by which a host tells its child that slot CHANNEL_FD holds their channel. */
export const CHANNEL_VARIABLE = 'APARTMENT_RUNTIME_CHANNEL_FD';

let toHost: PipeChannel | undefined;

/**
 * This process's channel to the host that started it, opened on first use (main thread only).
 * Undefined when no host started this process with one. The variable is taken out of the
 * environment at once, so neither this process's threads nor processes it starts take it for theirs.
 */
export function channelToHost(): PipeChannel | undefined {
  if (toHost) return toHost;
  const fd = process.env[CHANNEL_VARIABLE];
  if (fd !== String(CHANNEL_FD) || !isMainThread) return undefined;
  delete process.env[CHANNEL_VARIABLE];
  toHost = new PipeChannel(new Socket({ fd: CHANNEL_FD, readable: true, writable: true }), 'the host');
  return toHost;
}
