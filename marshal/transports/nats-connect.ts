// How every part of a node reaches NATS: the node's main thread and each thread that holds an
// apartment's session connect the same way (the client loaded only now, an optional peer; the
// servers tried in the order given, the first being the node's preferred one; reconnecting for
// ever, so a server restart or a move to another server of the cluster is ridden out), and publish
// the same way (a frame published on a closed connection is lost, as NATS may lose any: the
// sessions' sequence numbers and heartbeat counts find it).
import { ModuleLoadError } from '../errors.js';
import type { NatsAuth, NatsClient, NatsMessage } from './nats-client.js';

/**
 * Connect to the first of `servers` that answers, as `auth` when given; ModuleLoadError when the
 * client is not installed. Answers to this connection's requests come under `inboxPrefix` (the
 * client's `_INBOX` when left out), so a server can let each node read only its own answers.
 */
export async function connectNats(servers: readonly string[], name: string, auth: NatsAuth | undefined, inboxPrefix?: string): Promise<NatsClient> {
  const nats = await import('@nats-io/transport-node').catch((err: unknown) => {
    throw new ModuleLoadError(`[cluster-client] a node needs the NATS client; install it with npm install @nats-io/transport-node @nats-io/kv (${(err as Error)?.message ?? String(err)})`, { cause: err });
  });
  // `auth` was checked (natsAuthProblem): it holds { token } or { user, pass } and nothing else, the client's own option names.
  return await nats.connect({ servers: [...servers], name, noRandomize: true, maxReconnectAttempts: -1, reconnectTimeWait: 250, ...(inboxPrefix === undefined ? {} : { inboxPrefix }), ...auth }) as NatsClient;
}

/** What is wrong with `auth` as credentials (a user and password, or a token), or undefined. */
export function natsAuthProblem(auth: unknown): string | undefined {
  const a = auth as Record<string, unknown> | null;
  const text = (v: unknown): boolean => typeof v === 'string' && v.length > 0 && v.length <= 4_096;
  if (typeof a !== 'object' || a === null) return 'must be { user, pass } or { token }';
  if ('token' in a) return text(a.token) && Object.keys(a).length === 1 ? undefined : 'token must be a non-empty string, alone';
  return text(a.user) && text(a.pass) && Object.keys(a).length === 2 ? undefined : 'must be { user, pass } with non-empty strings, or { token }';
}

/** Publish `bytes` to `subject`, or lose them when the connection is closed. */
export function publishOrDrop(nc: NatsClient, subject: string, bytes: Uint8Array | string): void {
  try {
    nc.publish(subject, bytes);
  } catch {
    // Closed for good: the other side's heartbeat finds the frame missing, or finds this node gone.
  }
}

/**
 * Subscribe to `subject`, handing each message to `handle`; whatever `handle` throws goes to
 * `failed`, never to the client: the client's reader stops for good on an exception from a
 * callback, and the connection then hears nothing more until its pings time out (minutes).
 */
export function subscribeGuarded(nc: NatsClient, subject: string, handle: (msg: NatsMessage) => void, failed: (err: unknown) => void): void {
  nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) return;
      try {
        handle(msg);
      } catch (thrown) {
        failed(thrown);
      }
    },
  });
}
