// Deserialize a frame from a peer so that every typed array and DataView in it owns exactly its
// bytes. Node's deserializer builds each view onto the buffer it reads from, so a 1-byte array in a
// frame padded to 48 MiB kept the whole 48 MiB alive, and whatever copied the value on (a
// postMessage to a worker copies the whole buffer under a view) copied it all, while anything that
// weighed the value by its serialized form (v8.serialize writes only a view's own bytes) saw 28
// bytes. With a copy of its own bytes per view, a value holds what it shows, and the frame's
// buffer is free once read. Any thread.
import { DefaultDeserializer } from 'node:v8';

/** A view of its own: the same kind, over a copy of exactly its bytes. */
function ownCopy(view: ArrayBufferView): ArrayBufferView {
  const buffer = (view.buffer as ArrayBuffer).slice(view.byteOffset, view.byteOffset + view.byteLength);
  if (Buffer.isBuffer(view)) return Buffer.from(buffer, 0, buffer.byteLength);
  if (view instanceof DataView) return new DataView(buffer);
  return new (view.constructor as new (buffer: ArrayBuffer) => ArrayBufferView)(buffer);
}

/** Node's deserializer, with each host object (an ArrayBufferView) copied onto a buffer of its own. */
class OwnedViewsDeserializer extends DefaultDeserializer {
  /** Called by Node for each host object in the value (Node's serializer writes views as such). */
  _readHostObject(): unknown {
    const read = (DefaultDeserializer.prototype as unknown as { _readHostObject(this: DefaultDeserializer): unknown })._readHostObject;
    const view = read.call(this);
    return ArrayBuffer.isView(view) ? ownCopy(view) : view;
  }
}

/** `v8.deserialize(bytes)`, with every view in the value owning exactly its bytes; throws as v8.deserialize does. */
export function deserializeOwned(bytes: Uint8Array): unknown {
  const deserializer = new OwnedViewsDeserializer(bytes);
  deserializer.readHeader();
  return deserializer.readValue();
}
