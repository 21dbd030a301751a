// The body of every worker apartment: join the apartment, connect to the main apartment, say
// Ready, then serve calls from the message loop until the runtime closes the apartment.
import { workerData, type MessagePort } from 'node:worker_threads';
import { currentCall, setAsyncCallTracking, setCurrentApartment } from '../lib/context.js';
import { decodeError } from '../marshal/error-codec.js';
import { transfer } from '../marshal/by-ref.js';
import { CONTROL_OID, Op, PROTOCOL_VERSION } from '../marshal/protocol.js';
import { shareAwakeFlag } from '../marshal/thread-spinner.js';
import { attachLink, createLink } from './links.js';
import { LocalApartment } from './local-apartment.js';
import type { WorkerBoot } from './worker-boot.js';
import { WorkerControl } from './worker-control.js';

const boot = workerData as WorkerBoot;
setAsyncCallTracking(boot.asyncCausality);
shareAwakeFlag(boot.awakeFlag);
/** How long to wait for the runtime's word on a peer whose link closed before deciding alone. */
const PEER_GONE_GRACE_MS = 250;
const labels = new Map<number, string>(Object.entries(boot.labels).map(([k, v]) => [Number(k), v]));
const label = (id: number): string => labels.get(id) ?? `apartment ${id}`;

/** A one-way control call to the main apartment; if it cannot arrive the apartment is ending. */
function tellMain(method: string, args: unknown[]): void {
  apartment.endpoint.call(0, CONTROL_OID, method, args).catch(() => {});
}

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
  waits: {
    added: (edge) => tellMain('waitAdded', [edge]),
    removed: (_apartment, id) => tellMain('waitRemoved', [id]),
  },
  label,
  connect(peer) {
    // Offer a shared-memory link when this apartment uses one; the runtime takes it if the peer
    // does too, and otherwise answers with a port.
    const offer = boot.transport === 'shared-memory' ? createLink('shared-memory') : undefined;
    const args = offer ? [peer, transfer({ end: offer.far }, offer.transfer)] : [peer];
    apartment.endpoint.call(0, CONTROL_OID, 'connect', args).then(
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
  place: (className, mode, assignment) => apartment.endpoint.call(0, CONTROL_OID, 'place', [className, mode, assignment]) as Promise<number>,
  onUnreferenced: () => tellMain('unreferenced', []),
  acquireShared: (name) => apartment.endpoint.call(0, CONTROL_OID, 'acquireShared', [name]) as Promise<{ lease: number; value: unknown }>,
  releaseShared: async (lease) => {
    await apartment.endpoint.call(0, CONTROL_OID, 'releaseShared', [lease]);
  },
  warn(message, causality = currentCall()?.causality) {
    // The chain travels as an argument: the log call itself is the apartment's, not the caller's.
    apartment.endpoint.call(0, CONTROL_OID, 'log', ['warn', message, causality]).catch(() => {
      process.stderr.write(`${message}\n`);
    });
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

apartment.endpoint.control = new WorkerControl(apartment, () => {
  setCurrentApartment(undefined);
}, labels);
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

