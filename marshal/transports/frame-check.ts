// What a process link refuses of a serialized message before sending it: a frame larger than the
// other side reads, or one that would build far more heap there than its bytes (frame-weight.ts).
// The pipe checks what it writes, and a relay into a process checks what it passes on, so a call
// fails at its sender with MarshalError instead of cutting the link.
import { TOO_LARGE } from '../errors.js';
import { checkWeight } from './frame-weight.js';

/** The largest frame either side of a process link writes or reads: the same bound a node session carries (nats-peer.ts). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

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
