// The threads of a process server past its first apartment (which runs on the child's main
// thread): each later apartment runs on a worker thread of the child, hosted as worker apartments
// are in the host, and reaches the host through this thread, which relays its batches between the
// IPC channel (under the apartment's link number) and a MessagePort to the thread. What the child
// reports of each thread's end reaches that apartment's host. Child process, main thread only.
import { MessageChannel, type ResourceLimits } from 'node:worker_threads';
import type { ApartmentHost } from '../apartments/apartment-host.js';
import { workerHosts } from '../apartments/hosts/worker-host.js';
import { SCRIPT_GATE_BYTES } from '../apartments/script-gate.js';
import type { ApartmentBoot } from '../apartments/worker-boot.js';
import type { Batch } from '../marshal/protocol.js';
import { childIpcEnd } from '../marshal/transports/ipc-link.js';
import { ipcRelayLink, type IpcRelayEnd } from '../marshal/transports/ipc-relay-link.js';

/** The worker composition root, as the host's worker apartments run it. */
const THREAD_HOSTS = workerHosts(new URL('./worker-main.js', import.meta.url));

/** The apartments on worker threads of this process, by link number. */
export class ProcessThreads {
  private readonly hosts = new Map<number, ApartmentHost>();

  /** `report` tells the host that the apartment of `link` ended, and how. */
  constructor(private readonly report: (link: number, code: number, description: string) => void) {}

  /** Start the apartment of link `link` on a thread of its own, relayed to the host. */
  start(link: number, boot: ApartmentBoot, resourceLimits: ResourceLimits | undefined): void {
    if (this.hosts.has(link)) return;
    const toHost = childIpcEnd(link);
    const { port1, port2 } = new MessageChannel();
    toHost.listen((batch) => port1.postMessage(batch), () => port1.close());
    port1.on('message', (batch: Batch) => {
      try {
        toHost.send(batch);
      } catch (err) {
        // The thread's link says what it can carry, so its channel refused such values already.
        process.stderr.write(`[process-relay] a batch of link ${link} could not cross to the host: ${(err as Error)?.message ?? String(err)}\n`);
      }
    });
    const end: IpcRelayEnd = { relay: port2 };
    const host = THREAD_HOSTS({
      boot: { ...boot, transport: ipcRelayLink.name, link: end, scriptGate: new SharedArrayBuffer(SCRIPT_GATE_BYTES) },
      transfer: [port2],
      resourceLimits,
    });
    let failure: Error | undefined;
    host.on('error', (err) => (failure ??= err));
    host.once('exit', (code) => {
      this.hosts.delete(link);
      const thrown = failure ? `; it failed with ${failure.stack ?? failure.message}` : '';
      this.report(link, code, `${host.identity} of process ${process.pid} exited with code ${code}${thrown}`);
      port1.close();
      toHost.close();
    });
    this.hosts.set(link, host);
    host.start();
  }

  /** Whether any apartment runs on a thread of this process. */
  get running(): boolean {
    return this.hosts.size > 0;
  }

  /** End the apartment of link `link` now (its end is reported as it happens). */
  terminate(link: number): void {
    void this.hosts.get(link)?.terminate();
  }
}
