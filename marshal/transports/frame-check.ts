// What a process link refuses of a message before sending it: an encoded batch past its length,
// or, serialized, a frame larger than the other side reads or one that would build far more heap
// there than its bytes (frame-weight.ts). The pipe checks what it writes, and a relay into a
// process checks what it passes on, so a call fails at its sender with MarshalError instead of
// cutting the link.
import { TOO_LARGE } from '../errors.js';
import { checkWeight } from './frame-weight.js';

/** The largest frame either side of a process link writes or reads: the same bound a node session carries (nats-peer.ts). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/**
 * Largest batch a process link sends as encoded bytes; a larger one goes as the batch itself
 * (structured clone is as fast there, and a string frame of one megabyte is already a large single
 * allocation). A string payload longer than this is malformed.
 */
export const MAX_ENCODED_BATCH = 1 << 20;

/** The DataCloneError of a message of `bytes` serialized bytes that is larger than a frame (the call fails with MarshalError). */
function frameTooLarge(bytes: number, max: number): DOMException {
  return new DOMException(`${TOO_LARGE} a message of ${bytes} bytes is larger than a process link carries (${max}); pass a smaller value, or a stream or reference to where the data is`, 'DataCloneError');
}

/**
 * Throw the DataCloneError of a serialized message the other side would refuse (and cut this side
 * off for): larger than a frame, or a value that deserializes far larger than its bytes.
 */
export function checkFrame(body: Uint8Array, max = MAX_FRAME_BYTES): void {
  if (body.byteLength > max) throw frameTooLarge(body.byteLength, max);
  checkWeight(body, 'a process link');
}
