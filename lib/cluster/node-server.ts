// The apartments this node runs for other nodes: DCOM's server side. A node that places an
// apartment here says hello first (its name, epoch and heartbeat); this node opens a session with
// it and runs each apartment it boots on a worker thread of this process, relayed to the session
// (process-threads.ts), and reports each end back. The host pings once per period; a host silent
// for its whole heartbeat, or one that comes back in a new epoch, is gone, and so is every
// apartment run for it. Main thread only.
import type { ResourceLimits } from 'node:worker_threads';
import type { ClusterConnection, ControlReply, ControlRequest } from '../../apartments/hosts/cluster-connection.js';
import type { ApartmentBoot } from '../../apartments/worker-boot.js';
import { IpcTag, IpcTransport, isIpc, keepEarlyMessages } from '../../marshal/transports/ipc-transport.js';
import { natsLink, natsLinkNumber } from '../../marshal/transports/nats-link.js';
import type { NatsPeer } from '../../marshal/transports/nats-peer.js';
import { ProcessThreads } from '../process-threads.js';

/** The most apartments one host may run on this node at once. */
const MAX_APARTMENTS_PER_HOST = 256;

/** Runs apartments for the other nodes of the cluster. */
export class NodeServer {
  private readonly hosts = new Map<string, HostedSession>();
  private closed = false;

  constructor(private readonly connection: ClusterConnection, private readonly warn: (message: string) => void) {}

  /** Answer a control request (undefined: it was not one). */
  control(request: ControlRequest | undefined): ControlReply {
    const epoch = this.connection.epoch;
    if (!request) return { epoch, knows: false, refusal: 'not a control request' };
    if (request.op === 'probe') return { epoch, knows: false };
    const known = this.hosts.get(request.from);
    if (request.op === 'ping') {
      if (known?.id !== request.session) return { epoch, knows: false };
      known.seen(request.sent);
      // A session that found frames missing has ended: the host learns it from this answer.
      return known.live ? { epoch, knows: true, sent: known.sent } : { epoch, knows: false };
    }
    if (this.closed) return { epoch, knows: false, refusal: `node '${this.connection.name}' is leaving the cluster` };
    if (request.from === this.connection.name) return { epoch, knows: false, refusal: 'a node runs its own apartments on its own threads' };
    if (!(request.periodMs >= 10 && request.misses >= 1)) return { epoch, knows: false, refusal: 'a heartbeat of at least 10 ms × 1 is needed' };
    if (known?.id === request.session) {
      known.seen();
      return { epoch, knows: true };
    }
    // A new session: the host came back in a new epoch, or counted this node gone and starts over.
    // What ran in its last session is gone with it.
    void known?.end(known.epoch === request.epoch ? `node '${request.from}' opened a new session` : `node '${request.from}' came back in epoch ${request.epoch}`);
    this.hosts.set(request.from, new HostedSession(this.connection, this.connection.session(request.from, request.epoch, request.session), request, (session) => {
      if (this.hosts.get(session.node) === session) this.hosts.delete(session.node);
    }, this.warn));
    return { epoch, knows: true };
  }

  /** End every apartment run for other nodes; resolves once they ended and their ends were reported. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.hosts.values()].map((host) => host.end(`node '${this.connection.name}' left the cluster`)));
  }

  /** How many apartments run here for other nodes. */
  get hostedApartments(): number {
    let n = 0;
    for (const host of this.hosts.values()) n += host.count;
    return n;
  }
}

/** One host node's session, and the apartments run for it. */
class HostedSession {
  readonly node: string;
  /** The host's epoch, and the session's id. */
  readonly epoch: string;
  readonly id: string;
  private readonly ends = new Map<number, IpcTransport>();
  private readonly threads: ProcessThreads;
  private lastSeen = Date.now();
  private readonly timer: NodeJS.Timeout;
  private ending: Promise<void> | undefined;

  constructor(private readonly connection: ClusterConnection, private readonly peer: NatsPeer, hello: { epoch: string; periodMs: number; misses: number }, private readonly forget: (session: HostedSession) => void, private readonly warn: (message: string) => void) {
    this.node = peer.node;
    this.epoch = hello.epoch;
    this.id = peer.id;
    // Relayed links are opened by Connect messages on the apartment's own link, behind which their
    // first batches come on the same ordered session: bounded keeping covers any that arrive first.
    keepEarlyMessages(peer);
    this.threads = new ProcessThreads((link, code, description) => {
      this.ends.get(link)?.close();
      this.ends.delete(link);
      if (peer.connected) peer.send([IpcTag.Exited, link, { code, description: `${description} on node '${connection.name}'` }]);
    }, {
      endOf: (link) => this.endOf(link),
      kind: natsLink.name,
      linkOf: natsLinkNumber,
    });
    peer.on('message', (message) => this.fromHost(message));
    peer.on('gap', (description) => void this.end(description));
    const limit = hello.periodMs * hello.misses;
    this.timer = setInterval(() => {
      if (Date.now() - this.lastSeen > limit) void this.end(`node '${this.node}' sent no heartbeat for ${limit} ms (${hello.misses} × ${hello.periodMs} ms)`);
    }, hello.periodMs);
    this.timer.unref();
  }

  get count(): number {
    return this.ends.size;
  }

  /** The host's heartbeat came, saying how many frames it had sent when it did. */
  seen(sent?: number): void {
    this.lastSeen = Date.now();
    if (sent !== undefined) this.peer.confirm(sent);
  }

  get live(): boolean {
    return this.peer.connected;
  }

  get sent(): number {
    return this.peer.sent;
  }

  /** The host is gone or this node leaves: end every apartment run for it, then the session. */
  end(why: string): Promise<void> {
    this.ending ??= (async () => {
      clearInterval(this.timer);
      this.forget(this);
      if (this.threads.running) this.warn(`[node-host-gone] ${why}: ending the ${this.ends.size} apartment(s) this node ran for it`);
      await this.threads.terminateAll();
      this.peer.disconnect();
      this.connection.endSession(this.peer);
    })();
    return this.ending;
  }

  private endOf(link: number): IpcTransport {
    let end = this.ends.get(link);
    if (!end) this.ends.set(link, (end = new IpcTransport(link, this.peer)));
    return end;
  }

  private fromHost(message: unknown): void {
    if (this.ending) return;
    if (isIpc(message, IpcTag.Boot)) {
      const [, link, payload] = message;
      const boot = checkBoot(link, payload);
      if (typeof boot === 'string') {
        this.peer.send([IpcTag.Exited, link, { code: 1, description: `[node-boot] node '${this.connection.name}' refused to start the apartment: ${boot}` }]);
        return;
      }
      if (this.threads.has(link)) return;
      if (this.ends.size >= MAX_APARTMENTS_PER_HOST) {
        this.peer.send([IpcTag.Exited, link, { code: 1, description: `[node-boot] node '${this.connection.name}' already runs ${MAX_APARTMENTS_PER_HOST} apartments for node '${this.node}'; close some first` }]);
        return;
      }
      this.endOf(link);
      this.threads.start(link, boot.boot, boot.resourceLimits);
    } else if (isIpc(message, IpcTag.Terminate)) {
      const link = message[1];
      if (this.threads.has(link)) this.threads.terminate(link);
      else this.peer.send([IpcTag.Exited, link, { code: 0, description: `node '${this.connection.name}' runs no apartment of link ${link}` }]);
    }
  }
}

/** A boot record from another node, checked as far as this node relies on it before the thread starts. */
function checkBoot(link: number, payload: unknown): { boot: ApartmentBoot; resourceLimits: ResourceLimits | undefined } | string {
  const { boot, resourceLimits } = (payload ?? {}) as { boot?: Partial<ApartmentBoot>; resourceLimits?: unknown };
  if (typeof boot !== 'object' || boot === null) return 'the boot record is missing';
  if (natsLinkNumber(boot.link) !== link) return "its link is not the 'nats' end of the link it came on";
  if (!Number.isSafeInteger(boot.id) || typeof boot.name !== 'string' || !Array.isArray(boot.classes) || !Array.isArray(boot.linkKinds) || !Array.isArray(boot.hooks)) {
    return 'the boot record lacks an id, a name, classes, link kinds or hooks';
  }
  if (resourceLimits !== undefined && (typeof resourceLimits !== 'object' || resourceLimits === null)) return 'resourceLimits is not an object';
  return { boot: boot as ApartmentBoot, resourceLimits: resourceLimits as ResourceLimits | undefined };
}
