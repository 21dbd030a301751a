// The NATS server's word that a client's connection closed (its `client_disconnect` advisory, which
// the system account publishes on `$SYS.ACCOUNT.<account>.DISCONNECT` and an account can import),
// read as "node N of epoch E dropped its connection". Each node names its main connection so the
// advisory says which run of which node it was. The subject is open to every client of the
// account, so an advisory is hostile input: bounded, checked field by field, and only ever a
// reason to ask the node (cluster-node.ts), never proof that it is gone.

/** The largest advisory read, in bytes (a real one is about 1 KiB). */
const MAX_ADVISORY_BYTES = 16 * 1024;
const ADVISORY_TYPE = 'io.nats.server.advisory.v1.client_disconnect';
const PREFIX = 'apartments node ';
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** A node's main connection closed, by the server's account. */
export interface NodeDisconnect {
  readonly node: string;
  readonly epoch: string;
  /** The server's reason ("Client Closed", "Stale Connection", ...), at most 200 characters. */
  readonly reason: string;
}

/** The connection name a node's main thread connects with: cluster, node and epoch, which advisories repeat. */
export function nodeConnectionName(cluster: string, node: string, epoch: string): string {
  return `${PREFIX}${cluster}.${node}.${epoch}`;
}

/** The node of `cluster` an advisory reports disconnected; undefined for anything else. */
export function parseDisconnect(bytes: Uint8Array, cluster: string): NodeDisconnect | undefined {
  if (bytes.byteLength > MAX_ADVISORY_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  const advisory = value as { type?: unknown; client?: { name?: unknown }; reason?: unknown } | null;
  if (typeof advisory !== 'object' || advisory === null || advisory.type !== ADVISORY_TYPE) return undefined;
  const name = typeof advisory.client === 'object' && advisory.client !== null ? advisory.client.name : undefined;
  if (typeof name !== 'string' || !name.startsWith(PREFIX)) return undefined;
  const [who, node, epoch, ...rest] = name.slice(PREFIX.length).split('.');
  if (who !== cluster || rest.length > 0 || !TOKEN.test(node ?? '') || !TOKEN.test(epoch ?? '')) return undefined;
  const reason = typeof advisory.reason === 'string' ? advisory.reason.slice(0, 200) : 'no reason given';
  return { node: node!, epoch: epoch!, reason };
}
