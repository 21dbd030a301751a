// The apartment loop shared by every host's composition root (lib/worker-main.ts for worker
// threads, lib/process-main.ts for child processes): join the apartment, plug in the features,
// connect to the main apartment, say Ready, then serve calls from the message loop until the
// runtime closes the apartment. The caller hands over a private copy of the boot record.
import { MessagePort } from 'node:worker_threads';
import { currentCall, setAsyncCallTracking, setCurrentApartment } from '../apartments/context.js';
import { serveApartment, serveObjects } from '../apartments/apartment-services.js';
import { RuntimeService } from '../apartments/engine-services.js';
import { serveFree } from '../apartments/free-objects.js';
import { attachLink, linkKind, loadLinkKind, loadLinkKinds, type LinkReply } from '../apartments/links.js';
import { resolveCallLimits } from '../apartments/call-limits.js';
import { LocalApartment } from '../apartments/local-apartment.js';
import type { WorkerBoot } from '../apartments/worker-boot.js';
import { decodeError } from '../marshal/error-codec.js';
import { InvalidArgumentError, ProtocolError } from '../marshal/errors.js';
import { transfer } from '../marshal/by-ref.js';
import { Op, PROTOCOL_VERSION } from '../marshal/protocol.js';
import { useStartEntropy } from '../marshal/random-ids.js';
import { shareAwakeFlag } from '../marshal/transports/thread-spinner.js';
import { SharedResourcesService } from './shared-resources.js';
import { installWorkerFeatures } from './worker-features.js';
import './thread-link-kinds.js';

/**
 * How long to wait for the runtime's word on a peer whose link closed before deciding alone. The
 * runtime tells every apartment as soon as it sees the thread exit, so this is only a backstop; on
 * a loaded machine that word can take far longer than a few hundred ms, and deciding alone then
 * turns a fault into a plain disconnect for the calls in flight.
 */
const PEER_GONE_GRACE_MS = 10_000;

/**
 * Run the apartment `boot` describes in this thread; resolves once it has said Ready. `mainGone`
 * runs once the main apartment is out of reach: by default this thread ends (a process server
 * whose other threads still serve keeps its process).
 */
export async function runApartment(boot: WorkerBoot, mainGone: () => void = () => process.exit(0)): Promise<void> {
  setAsyncCallTracking(boot.asyncCausality);
  shareAwakeFlag(boot.awakeFlag);
  useStartEntropy(boot.entropy);
  const labels = new Map<number, string>(Object.entries(boot.labels).map(([k, v]) => [Number(k), v]));
  const label = (id: number): string => labels.get(id) ?? `apartment ${id}`;
  const pool = new Set(boot.pool);

  const apartment: LocalApartment = new LocalApartment({
    id: boot.id,
    name: boot.name,
    kind: boot.kind,
    pool: boot.pool,
    scriptGate: boot.scriptGate,
    defaultTimeoutMs: boot.defaultTimeoutMs,
    reentrancy: boot.reentrancy,
    retry: boot.retry,
    // Checked again here: a boot from another node's host is a peer's message.
    callLimits: resolveCallLimits(boot.callLimits),
    // An uncaught error ends the thread the way any fault does: in-flight calls fail, a fault event fires.
    fault: (error) => setImmediate(() => {
      throw error;
    }),
    classes: boot.classes,
    roleOf: (id) => (id === 0 ? 'main' : pool.has(id) ? 'pool' : 'worker'),
    waits: {
      added: (edge) => void runtime().waitAdded(edge),
      removed: (_apartment, id) => void runtime().waitRemoved(id),
    },
    label,
    connect: (peer) => linkTo(peer),
    place: (className, mode, assignment) => {
      if (typeof assignment === 'function') {
        return Promise.reject(new InvalidArgumentError('[assignment] an apartment can name a built-in assignment policy, not pass a function; register custom policies on the runtime', { parameter: 'assignment' }));
      }
      return runtime().place(className, mode, assignment);
    },
    onUnreferenced: () => void runtime().unreferenced(),
    acquireShared: (name) => apartment.controlOf(0, SharedResourcesService).acquire(name),
    releaseShared: (lease) => apartment.controlOf(0, SharedResourcesService).release(lease),
    warn(message, causality = currentCall()?.causality) {
      // The chain travels as an argument: the log notification itself is the apartment's, not the caller's.
      if (apartment.endpoint.channelIfAny(0)) void runtime().log('warn', message, causality);
      else process.stderr.write(`${message}\n`);
    },
    onLifecycle(channel, msg) {
      // Lifecycle is the main apartment's to send: a peer apartment may only close its own link.
      switch (msg[0]) {
        case Op.Connect:
          if (channel.peer !== 0 || msg[1] === 0 || msg[1] === boot.id) return refuseLifecycle(channel.peer, `a Connect for ${label(msg[1])}`, msg[3]);
          attachFrom(msg[1], msg[2], msg[3]);
          return;
        case Op.PeerGone:
          if (channel.peer === msg[1] && msg[1] !== 0) {
            const reason = decodeError(msg[2]);
            // The link was faulted for what the peer sent (already logged): it is gone for this apartment now.
            if (reason instanceof ProtocolError) return apartment.endpoint.peerGone(msg[1], reason);
            // Our direct link to a peer closed. The runtime's PeerGone says why (closed or faulted)
            // and normally follows at once; fall back to the link's own reason if it does not.
            setTimeout(() => apartment.endpoint.peerGone(msg[1], reason), PEER_GONE_GRACE_MS).unref();
            return;
          }
          if (channel.peer !== 0) return refuseLifecycle(channel.peer, `a PeerGone naming ${label(msg[1])}`);
          if (msg[1] === 0) {
            // The main apartment is gone: nothing can reach this apartment any more.
            apartment.endpoint.close(decodeError(msg[2]));
            mainGone();
            return;
          }
          // The calls it made here go with it (Dispatcher.callerGone), not those of the main apartment that brought the news.
          apartment.endpoint.peerGone(msg[1], decodeError(msg[2]));
          return;
        case Op.Ready:
          return;
        default: {
          const unreachable: never = msg;
          apartment.endpoint.warn(`[lifecycle] unexpected message ${String(unreachable)}`);
        }
      }
    },
  });

  /** A lifecycle message from a peer whose role does not allow it: log it with the peer, act on nothing. */
  function refuseLifecycle(peer: number, what: string, link?: unknown): void {
    // A link end that came with a refused Connect is closed, not left open.
    if (link instanceof MessagePort) link.close();
    else if (link && typeof link === 'object' && (link as { port?: unknown }).port instanceof MessagePort) (link as { port: MessagePort }).port.close();
    apartment.endpoint.warn(`[lifecycle] ${label(peer)} sent ${what}, which only the main apartment may send; refused`);
  }

  function runtime() {
    return apartment.controlOf(0, RuntimeService);
  }

  /**
   * Ask the runtime for a link to `peer`, offering one of this apartment's own kind when that kind
   * can link apartments directly: the runtime passes the offer on, or answers with an end of another
   * kind, or with null when the peer asked first (its end is then on its way as a Connect message).
   */
  function linkTo(peer: number): void {
    const own = linkKind(boot.transport);
    const offer = own.direct ? own.create() : undefined;
    const made = offer ? transfer({ kind: own.name, end: offer.far, transfer: offer.transfer }, offer.transfer) : undefined;
    const asking = apartment.endpoint.channelIfAny(peer);
    runtime().connect(peer, made).then((reply: LinkReply | null) => {
      if (apartment.endpoint.channelIfAny(peer) !== asking) {
        // The peer went while the answer was on its way (its PeerGone can be read before this
        // callback runs). Its end is closed unread: what the dead peer wrote into it, such as an
        // AddRef, would otherwise take references nobody will ever release.
        offer?.near.close();
        if (reply && 'end' in reply) discardEnd(reply.kind, reply.end);
        return;
      }
      if (offer && reply && 'accepted' in reply) {
        apartment.endpoint.attach(peer, offer.near, own);
        return;
      }
      offer?.near.close();
      if (reply && 'end' in reply) attachFrom(peer, reply.kind, reply.end);
    }, (err: unknown) => {
      offer?.near.close();
      apartment.endpoint.peerGone(peer, err as Error);
    });
  }

  /** Close an end of a link that came too late to be used. */
  function discardEnd(kind: unknown, end: unknown): void {
    try {
      attachLink(kind, end, 'the runtime').transport.close();
    } catch (err) {
      apartment.endpoint.warn((err as Error).message);
    }
  }

  /** Attach an end of a link to `peer` that the runtime sent; one that fails its kind's check cuts the peer off. */
  function attachFrom(peer: number, kind: unknown, end: unknown): void {
    try {
      const link = attachLink(kind, end, 'the runtime');
      apartment.endpoint.attach(peer, link.transport, link.kind);
    } catch (err) {
      apartment.endpoint.warn((err as Error).message);
      apartment.endpoint.peerGone(peer, err as Error);
    }
  }

  serveObjects(apartment.control, apartment);
  serveApartment(apartment.control, apartment, labels, () => setCurrentApartment(undefined));
  if (boot.kind === 'pool') serveFree(apartment.control, apartment.freeObjects);
  installWorkerFeatures(apartment, boot.features ?? {});
  setCurrentApartment(apartment);
  // Kinds that are not built in, and the deferred kind this thread was started on, are loaded
  // before the first link is attached.
  await loadLinkKinds(boot.linkKinds);
  await loadLinkKind(boot.transport);
  const toMainLink = attachLink(boot.transport, boot.link, 'the runtime');
  const toMain = apartment.endpoint.attach(0, toMainLink.transport, toMainLink.kind);

  // The thread is ending (process.exit, an uncaught exception, an unhandled rejection): detach
  // hooks still run, synchronously, before it goes.
  let faulted = false;
  process.on('uncaughtExceptionMonitor', () => {
    faulted = true;
  });
  process.on('exit', () => apartment.hooks.detachNow(faulted ? 'fault' : 'exit'));

  // An attach that outlasts its deadline was reported by the runner; the apartment starts without it.
  for (const registration of boot.hooks) await apartment.hooks.register(registration).catch(() => undefined);
  toMain.post([Op.Ready, PROTOCOL_VERSION, boot.id]);
}
