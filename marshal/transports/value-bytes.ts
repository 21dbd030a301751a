// About how much memory a batch holds, for bounds that count what waits unread: the characters of
// its strings, the bytes of its buffers (each buffer once, however many views share it), and a word
// for each other value, walked without recursion so a deeply nested value cannot overflow the stack.
// A batch the wire encoder made is one string, and costs one read. Owner thread only.

/** Bytes counted for a value that is neither a string nor a buffer, and for each entry of a collection. */
const WORD = 8;

/** About how many bytes `value` holds. */
export function approximateBytes(value: unknown): number {
  if (typeof value === 'string') return value.length + WORD;
  let bytes = 0;
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    bytes += WORD;
    if (typeof next === 'string') {
      bytes += next.length;
      continue;
    }
    if (typeof next !== 'object' || next === null || seen.has(next)) continue;
    seen.add(next);
    if (ArrayBuffer.isView(next)) {
      stack.push(next.buffer);
    } else if (next instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && next instanceof SharedArrayBuffer)) {
      bytes += next.byteLength;
    } else if (Array.isArray(next)) {
      for (const item of next) stack.push(item);
    } else if (next instanceof Map) {
      for (const [k, v] of next) stack.push(k, v);
    } else if (next instanceof Set) {
      for (const item of next) stack.push(item);
    } else {
      for (const key of Object.keys(next)) stack.push(key, (next as Record<string, unknown>)[key]);
    }
  }
  return bytes;
}
