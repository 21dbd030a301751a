// Apartments hosted by child processes of this one, the out-of-process server of VB6 and DCOM: a
// crash there (a native addon's SIGSEGV, an out-of-memory abort, process.exit) ends only that
// process. Each apartment names its process server; the first apartment to name one starts it
// (process-server.ts), the others join it and run on threads of that process. This host is one
// apartment's view of its server: its link, its start, its end. Main thread only.
import { claimIpcEnd, ipcLink } from '../../marshal/transports/ipc-link.js';
import type { ApartmentHost, ApartmentHostFactory, HostStart, RelayEnd } from '../apartment-host.js';
import type { Heartbeat } from './heartbeat-pipe.js';
import { ServedHost } from './served-host.js';
import { ProcessServer, runningServer } from './process-server.js';

export type { Heartbeat } from './heartbeat-pipe.js';

/** What a process apartment's host is told besides the start record. */
export interface ProcessHostSettings {
  /** The process server's name: apartments naming the same running server share its process. */
  readonly name: string;
  readonly heartbeat: Heartbeat;
}

/** How long an apartment may take to end when other apartments keep its process. */
const END_GRACE_MS = 5_000;

/** A factory of process hosts whose servers fork `entry`, the child's composition root. */
export function processHosts(entry: URL, settings: ProcessHostSettings): ApartmentHostFactory {
  return (start) => new ProcessHost(entry, start, settings);
}

/** The heartbeat of the running server called `name`, if one runs (later apartments join it as it is). */
export function runningServerHeartbeat(name: string): Heartbeat | undefined {
  const server = runningServer(name);
  return server?.live ? server.heartbeat : undefined;
}

/** One apartment in a process server. */
class ProcessHost extends ServedHost implements ApartmentHost {
  private server: ProcessServer | undefined;
  private link: number | undefined;

  constructor(private readonly entry: URL, private readonly starting: HostStart, private readonly settings: ProcessHostSettings) {
    super();
  }

  get identity(): string {
    return this.server ? this.server.identity : 'a process not started yet';
  }

  start(): void {
    if (this.server) return;
    const near = claimIpcEnd(this.starting.boot.link);
    if (!near) throw new Error(`[process-host] the apartment's link is not an unclaimed 'ipc' link end; a process apartment needs transport 'ipc'`);
    const running = runningServer(this.settings.name);
    const limits = this.starting.resourceLimits;
    this.server = running?.live ? running : new ProcessServer(this.entry, this.settings.name, this.settings.heartbeat, limits?.maxOldGenerationSizeMb);
    this.link = near.link;
    // Shared memory cannot reach another process: the child makes its own script gate.
    const { scriptGate: _notShared, ...boot } = this.starting.boot;
    this.server.join(this, { link: near.link, boot, resourceLimits: limits, near });
  }

  /**
   * A further link number on the process's channel: the apartment on its main thread attaches it,
   * and the main thread relays it to an apartment on another thread (lib/process-threads.ts).
   */
  relayEnd(): RelayEnd | undefined {
    const server = this.server;
    if (!server || this.link === undefined) return undefined;
    const link = ipcLink.create();
    const near = claimIpcEnd(link.far)!.relayed();
    if (!server.openLink(near)) {
      near.close();
      return undefined;
    }
    return { near, kind: ipcLink.name, end: link.far, transfer: [] };
  }

  ref(): void {
    if (this.link !== undefined) this.server?.keepAlive(this.link, true);
  }

  unref(): void {
    if (this.link !== undefined) this.server?.keepAlive(this.link, false);
  }

  async terminate(): Promise<void> {
    const server = this.server;
    if (!server || this.link === undefined || this.done) return this.exited;
    const link = this.link;
    server.terminate(link);
    // An apartment on the process's main thread that is stuck cannot end alone: then the process
    // goes. One on another thread is ended by the main thread, which reports its end; a main thread
    // busy in a long call does neither, and the apartment counts as ended here without its word.
    const timer = setTimeout(() => {
      if (server.isPrimary(link)) server.kill();
      else server.endHere(link, 1, `the apartment was ended; ${server.identity} did not confirm it within ${END_GRACE_MS} ms (its main thread is busy or stuck), so its thread may run on until the main thread gets to it`);
    }, END_GRACE_MS);
    timer.unref();
    await this.exited;
    clearTimeout(timer);
  }
}
