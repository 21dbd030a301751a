// A node whose apartment threads log in with credentials of their own (node.threadAuth) checks at
// start that they can carry a session: read a session subject under this node's name. Without it,
// a misconfigured user showed only at the first call, as frames lost on the way ([link-gap]).
// Main thread only.
import { AccessDeniedError, DisconnectedError } from '../../marshal/errors.js';
import type { NatsAuth } from '../../marshal/transports/nats-client.js';
import { connectNats } from '../../marshal/transports/nats-connect.js';

/** Throws AccessDeniedError saying what to allow when `auth` may not read this node's session subjects. */
export async function checkThreadCredentials(servers: readonly string[], cluster: string, name: string, epoch: string, auth: NatsAuth): Promise<void> {
  const nc = await connectNats(servers, `apartments ${cluster}.${name}.${epoch} thread check`, auth).catch((err: unknown) => {
    throw new DisconnectedError(`[cluster-connect] node.threadAuth could not log in at ${servers.join(', ')}: ${(err as Error)?.message ?? String(err)}; give the credentials of the apartment threads' user`, { cause: err });
  });
  try {
    // A session subject's shape: <cluster>.<node>.<epoch>.<host>.<host epoch>.<id>.<link>.
    const subject = `${cluster}.${name}.${epoch}.check.${epoch}.check.0`;
    let refused: Error | undefined;
    nc.subscribe(subject, { callback: (err) => void (err && (refused ??= err)) });
    // The server answers the subscription (or refuses it) before the flush's pong.
    await nc.flush();
    if (refused) {
      throw new AccessDeniedError(`[cluster-thread-permissions] the apartment threads' user (node.threadAuth) may not read session subjects (${refused.message}); let it subscribe to ${cluster}.${name}.*.*.> and publish to ${cluster}.*.*.${name}, as docs/cluster.md shows`, { cause: refused });
    }
  } finally {
    await nc.close().catch(() => undefined);
  }
}
