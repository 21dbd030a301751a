// The composition root of a worker apartment, the script every apartment's Worker runs: join the
// apartment, plug in the features, connect to the main apartment, say Ready, then serve calls
// from the message loop until the runtime closes the apartment.
import { workerData, type MessagePort } from 'node:worker_threads';
import { inheritHostLoaders } from './worker-loader.js';
import { currentCall, setAsyncCallTracking, setCurrentApartment } from '../apartments/context.js';
import { serveApartment, serveObjects } from '../apartments/apartment-services.js';
import { RuntimeService } from '../apartments/engine-services.js';
import { serveFree } from '../apartments/free-objects.js';
import { attachLink, createLink } from '../apartments/links.js';
import { LocalApartment } from '../apartments/local-apartment.js';
import type { WorkerBoot } from '../apartments/worker-boot.js';
import { decodeError } from '../marshal/error-codec.js';
import { InvalidArgumentError } from '../marshal/errors.js';
import { transfer } from '../marshal/by-ref.js';
import { Op, PROTOCOL_VERSION } from '../marshal/protocol.js';
import type { SharedRingHandle } from '../marshal/shared-ring-transport.js';
import { shareAwakeFlag } from '../marshal/thread-spinner.js';
import { SharedResourcesService } from './shared-resources.js';
import { installWorkerFeatures } from './worker-features.js';

// First, before any class module loads: load modules the way the host does (TypeScript loaders).
await inheritHostLoaders();
const boot = workerData as WorkerBoot;
setAsyncCallTracking(boot.asyncCausality);
shareAwakeFlag(boot.awakeFlag);
/** How long to wait for the runtime's word on a peer whose link closed before deciding alone. */
const PEER_GONE_GRACE_MS = 250;
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
  classes: boot.classes,
  roleOf: (id) => (id === 0 ? 'main' : pool.has(id) ? 'pool' : 'worker'),
  waits: {
    added: (edge) => void runtime().waitAdded(edge),
    removed: (_apartment, id) => void runtime().waitRemoved(id),
  },
  label,
  connect(peer) {
    // Offer a shared-memory link when this apartment uses one; the runtime takes it if the peer
    // does too, and otherwise answers with a port.
    const offer = boot.transport === 'shared-memory' ? createLink('shared-memory') : undefined;
    runtime().connect(peer, offer ? transfer({ end: offer.far as SharedRingHandle }, offer.transfer) : undefined).then(
      (reply) => {
        const r = reply as { port?: MessagePort; accepted?: boolean } | null;
        if (offer && r?.accepted) apartment.endpoint.attach(peer, offer.near);
        else {
          offer?.near.close();
          // null: the peer asked first and our end is already on its way as a Connect message.
          if (r?.port) apartment.endpoint.attach(peer, attachLink(r.port));
        }
      },
      (err: unknown) => {
        offer?.near.close();
        apartment.endpoint.peerGone(peer, err as Error);
      },
    );
  },
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
    if (apartment.endpoint.hasChannel(0)) void runtime().log('warn', message, causality);
    else process.stderr.write(`${message}\n`);
  },
  onLifecycle(channel, msg) {
    switch (msg[0]) {
      case Op.Connect:
        apartment.endpoint.attach(msg[1], attachLink(msg[2]));
        return;
      case Op.PeerGone:
        if (channel.peer === msg[1] && msg[1] !== 0) {
          // Our direct link to a peer closed. The runtime's PeerGone says why (closed or faulted)
          // and normally follows at once; fall back to the link's own reason if it does not.
          setTimeout(() => apartment.endpoint.peerGone(msg[1], decodeError(msg[2])), PEER_GONE_GRACE_MS).unref();
          return;
        }
        if (msg[1] === 0) {
          // The main apartment is gone: nothing can reach this apartment any more.
          apartment.endpoint.close(decodeError(msg[2]));
          process.exit(0);
        }
        apartment.endpoint.peerGone(msg[1], decodeError(msg[2]));
        apartment.dispatcher.forget(channel);
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

function runtime() {
  return apartment.controlOf(0, RuntimeService);
}

serveObjects(apartment.control, apartment);
serveApartment(apartment.control, apartment, labels, () => setCurrentApartment(undefined));
if (boot.kind === 'pool') serveFree(apartment.control, apartment.freeObjects);
installWorkerFeatures(apartment);
setCurrentApartment(apartment);
const toMain = apartment.endpoint.attach(0, attachLink(boot.link));

// The thread is ending (process.exit, an uncaught exception, an unhandled rejection): detach
// hooks still run, synchronously, before it goes.
let faulted = false;
process.on('uncaughtExceptionMonitor', () => {
  faulted = true;
});
process.on('exit', () => apartment.hooks.detachNow(faulted ? 'fault' : 'exit'));

for (const registration of boot.hooks) await apartment.hooks.register(registration);
toMain.post([Op.Ready, PROTOCOL_VERSION, boot.id]);
