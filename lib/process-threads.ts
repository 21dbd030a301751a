// Apartments that this process runs for a host elsewhere, each on a worker thread hosted as worker
// apartments are in the host: the threads of a process server past its first apartment (which runs
// on the child's main thread), and every apartment a node of a cluster runs for another node
// (lib/cluster/node-server.ts). A process server's thread reaches its host through this thread,
// which relays its batches between the IPC channel (under the apartment's link number) and a
// MessagePort to the thread, and relays the further links the host makes to it (relayed links to
// other apartments) the same way; a node's apartment holds its own session with its host. What is
// known of each thread's end is reported to that apartment's host. Main thread only.
import { MessageChannel, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import type { Transferable } from '../marshal/transport.js';
import type { ApartmentHost } from '../apartments/apartment-host.js';
import { workerHosts } from '../apartments/hosts/worker-host.js';
import { SCRIPT_GATE_BYTES } from '../apartments/script-gate.js';
import type { ApartmentBoot } from '../apartments/worker-boot.js';
import { Op, type Batch } from '../marshal/protocol.js';
import { childIpcEnd, ipcLink, type IpcEnd } from '../marshal/transports/ipc-link.js';
import { ipcRelayLink, type IpcRelayEnd } from '../marshal/transports/ipc-relay-link.js';
import type { IpcTransport } from '../marshal/transports/ipc-transport.js';

/** The worker composition root, as the host's worker apartments run it. */
const THREAD_HOSTS = workerHosts(new URL('./worker-main.js', import.meta.url));

/** The apartments on worker threads of this process for one host, by link number. */
export class ProcessThreads {
  private readonly hosts = new Map<number, ApartmentHost>();

  /** `report` tells the host that the apartment of `link` ended, and how. */
  constructor(private readonly report: (link: number, code: number, description: string) => void) {}

  /** Start the apartment of link `link` on a thread of its own, relayed to the host over this child's IPC channel. */
  start(link: number, boot: ApartmentBoot, resourceLimits: ResourceLimits | undefined): void {
    if (this.hosts.has(link)) return;
    const toHost = childIpcEnd(link).relaysForThread();
    const { port1, port2 } = new MessageChannel();
    toHost.listen((batch) => {
      const moved = relayConnects(batch as Batch);
      port1.postMessage(batch, moved);
    }, () => port1.close());
    port1.on('message', forwardToHost(toHost, link));
    const end: IpcRelayEnd = { relay: port2 };
    this.launch(link, { ...boot, transport: ipcRelayLink.name, link: end }, [port2], resourceLimits, () => {
      port1.close();
      toHost.close();
    });
  }

  /**
   * Start the apartment of link `link` on a thread of its own with the boot record as it is: its
   * link to the host is its own (an apartment a node runs for another holds its own NATS session).
   */
  run(link: number, boot: ApartmentBoot, resourceLimits: ResourceLimits | undefined): void {
    if (this.hosts.has(link)) return;
    this.launch(link, boot, [], resourceLimits, () => undefined);
  }

  private launch(link: number, boot: ApartmentBoot, transfer: Transferable[], resourceLimits: ResourceLimits | undefined, ended: () => void): void {
    const host = THREAD_HOSTS({
      boot: { ...boot, scriptGate: new SharedArrayBuffer(SCRIPT_GATE_BYTES) },
      transfer,
      resourceLimits,
    });
    let failure: Error | undefined;
    host.on('error', (err) => (failure ??= err));
    host.once('exit', (code, meaning?: string) => {
      this.hosts.delete(link);
      const thrown = failure ? `; it failed with ${failure.stack ?? failure.message}` : '';
      this.report(link, code, meaning ?? `${host.identity} of process ${process.pid} exited with code ${code}${thrown}`);
      ended();
    });
    this.hosts.set(link, host);
    try {
      host.start();
    } catch (err) {
      // No thread (EAGAIN under load, limits the platform refuses): the host hears it as an end,
      // and nothing of the thread stays counted here.
      this.hosts.delete(link);
      this.report(link, 1, `a thread of process ${process.pid} could not be started for the apartment: ${(err as Error)?.message ?? String(err)}`);
      ended();
    }
  }

  /** Whether any apartment runs on a thread of this process. */
  get running(): boolean {
    return this.hosts.size > 0;
  }

  /** Whether the apartment of link `link` runs here. */
  has(link: number): boolean {
    return this.hosts.has(link);
  }

  /** End the apartment of link `link` now (its end is reported as it happens). */
  terminate(link: number): void {
    void this.hosts.get(link)?.terminate();
  }

  /** End every apartment; resolves once all have ended. */
  async terminateAll(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((host) => host.terminate()));
  }
}

/**
 * The host links this thread's apartment to another apartment over a further link number of the
 * IPC channel (a Connect naming an 'ipc' end), which only this thread can reach: relay that link to
 * a MessagePort of its own, and hand the thread the port instead. Rewrites `batch` in place and
 * answers the ports it must move. The host is trusted; what the relayed link carries is the thread's
 * to check, as from any peer.
 */
function relayConnects(batch: Batch): MessagePort[] {
  const moved: MessagePort[] = [];
  if (!Array.isArray(batch)) return moved;
  for (let i = 0; i < batch.length; i++) {
    const message = batch[i];
    if (!Array.isArray(message) || message[0] !== Op.Connect || message[2] !== ipcLink.name) continue;
    const link = (message[3] as IpcEnd | null)?.ipc;
    if (typeof link !== 'number') continue;
    const toHost = childIpcEnd(link).relaysForThread();
    const { port1, port2 } = new MessageChannel();
    toHost.listen((relayed) => port1.postMessage(relayed), () => port1.close());
    port1.on('message', forwardToHost(toHost, link));
    port1.once('close', () => toHost.close());
    const end: IpcRelayEnd = { relay: port2 };
    batch[i] = [Op.Connect, message[1], ipcRelayLink.name, end];
    moved.push(port2);
  }
  return moved;
}

/**
 * What a thread sends on relayed link `link`, sent on to the host. The thread's end of the link
 * refuses what cannot cross (ipc-relay-link.ts), and a relayed link is not held back for the
 * host's backlog (relaysForThread), so a refusal here is not expected: it is logged.
 */
function forwardToHost(toHost: IpcTransport, link: number): (batch: Batch) => void {
  return (batch) => {
    try {
      toHost.send(batch);
    } catch (err) {
      process.stderr.write(`[process-relay] a batch of link ${link} could not cross to the host: ${(err as Error)?.message ?? String(err)}\n`);
    }
  };
}
