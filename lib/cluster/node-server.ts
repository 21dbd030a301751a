// The apartments this node runs for other nodes: DCOM's server side. A node that places an
// apartment here says hello first (its name, epoch, session and heartbeat); this node opens the
// node pair's session with it, runs each apartment it boots on a worker thread of this process
// (process-threads.ts), and reports each end back. The apartment's calls do not pass through this
// thread: the boot record names a session of the apartment's own, which its thread opens on a NATS
// connection of its own (marshal/transports/nats-worker-session.ts); this thread adds what only
// it knows (its name, its servers and credentials, memory for the session's frame counts) and
// checks those counts at each heartbeat. The host pings once per period; a host silent for its
// whole heartbeat, one that comes back in a new epoch or session, or one the server reports
// disconnected that no longer listens (cluster-node.ts), is gone, and so is every apartment run
// for it. Main thread only.
import type { ResourceLimits } from 'node:worker_threads';
import type { ClusterConnection, ControlReply, ControlRequest } from '../../apartments/hosts/cluster-connection.js';
import type { ApartmentBoot } from '../../apartments/worker-boot.js';
import { GATEWAY_LINK, IpcTag, IpcTransport, isIpc } from '../../marshal/transports/ipc-transport.js';
import { natsLinkNumber, type NatsEnd } from '../../marshal/transports/nats-link.js';
import type { NatsAuth } from '../../marshal/transports/nats-client.js';
import type { NatsPeer } from '../../marshal/transports/nats-peer.js';
import type { ReassemblyBudget } from '../../marshal/transports/reassembly-budget.js';
import { HELD_OFFSET, readEndReason, SESSION_COUNTERS_BYTES, type DirectSessionEnd } from '../../marshal/transports/nats-worker-session.js';
import { partsTimeMs, watchParts } from '../../marshal/transports/parts-watch.js';
import { ProcessThreads } from '../process-threads.js';
import { resourceLimitsProblem } from '../../apartments/resource-limits.js';

/** How this node's threads reach NATS: its servers in order of preference, and its credentials. */
export interface NatsSettings {
  readonly servers: readonly string[];
  readonly auth: NatsAuth | undefined;
}

/** The most hosts this node runs apartments for at once: each holds a session and a timer. */
const MAX_HOSTS = 1_024;
/** The most apartments one host may run on this node at once. */
const MAX_APARTMENTS_PER_HOST = 256;
/** Subjects are dot-separated tokens without wildcards or spaces. */
const SUBJECT = /^[A-Za-z0-9_./=-]{1,512}$/;

/** Runs apartments for the other nodes of the cluster. */
export class NodeServer {
  private readonly sessions = new Map<string, HostedSession>();
  /** Sessions ending (out of `sessions` already) until their apartments' ends are reported. */
  private readonly ending = new Set<HostedSession>();
  private closed = false;

  constructor(
    private readonly connection: ClusterConnection,
    private readonly nats: NatsSettings,
    private readonly warn: (message: string) => void,
    /** Serve the link node `node` opened to this runtime (references between runtimes); returns what to call when it ends, and why. */
    private readonly gateways: (node: string, near: IpcTransport) => (why: string) => void,
  ) {}

  /** Answer a control request (undefined: it was not one). */
  control(request: ControlRequest | undefined): ControlReply {
    const epoch = this.connection.epoch;
    if (!request) return { epoch, knows: false, refusal: 'not a control request' };
    if (request.op === 'probe') return { epoch, knows: false };
    const known = this.sessions.get(request.from);
    if (request.op === 'ping') {
      if (known?.id !== request.session || !known.live) return { epoch, knows: false };
      known.seen(request.sent, request.links);
      // The counts it brought may have just ended the session (frames of the host's that never came).
      return known.live ? { epoch, knows: true, sent: known.sent, links: known.linkCounts() } : { epoch, knows: false };
    }
    if (this.closed) return { epoch, knows: false, refusal: `node '${this.connection.name}' is leaving the cluster` };
    if (request.from === this.connection.name) return { epoch, knows: false, refusal: 'a node runs its own apartments on its own threads' };
    if (!(request.periodMs >= 10 && request.misses >= 1)) return { epoch, knows: false, refusal: 'a heartbeat of at least 10 ms × 1 is needed' };
    if (known?.id === request.session) {
      known.seen();
      return { epoch, knows: true };
    }
    if (!known && this.sessions.size >= MAX_HOSTS) return { epoch, knows: false, refusal: `node '${this.connection.name}' already runs apartments for ${MAX_HOSTS} nodes` };
    // A new session: the host came back in a new epoch, or counted this node gone and starts over.
    // What ran in its last session is gone with it.
    void known?.end(known.epoch === request.epoch ? `node '${request.from}' opened a new session` : `node '${request.from}' came back in epoch ${request.epoch}`);
    const peer = this.connection.session(request.from, this.connection.inboxFor(request.from, request.epoch), request.session);
    this.sessions.set(request.from, new HostedSession(this.connection, peer, request, this.nats, (session, ended) => {
      if (this.sessions.get(session.node) === session) this.sessions.delete(session.node);
      this.ending.add(session);
      void ended.catch(() => undefined).then(() => this.ending.delete(session));
    }, this.warn, this.gateways));
    return { epoch, knows: true };
  }

  /** Whether this node runs apartments for node `node` in its run `epoch`. */
  hosts(node: string, epoch: string): boolean {
    return this.sessions.get(node)?.epoch === epoch;
  }

  /** Host `node` of run `epoch` is gone: end what this node runs for it. */
  hostGone(node: string, epoch: string, why: string): void {
    const host = this.sessions.get(node);
    if (host?.epoch === epoch) void host.end(why);
  }

  /** End every apartment run for other nodes; resolves once they ended and their ends were reported. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.sessions.values(), ...this.ending].map((host) => host.end(`node '${this.connection.name}' left the cluster`)));
  }

  /** How many apartments run here for other nodes. */
  get hostedApartments(): number {
    let n = 0;
    for (const host of this.sessions.values()) n += host.count;
    return n;
  }
}

/** An apartment run for a host: its session's frame counts and what the host said it had sent. */
interface HostedApartment {
  /** [frames sent, frames received, when its thread's loop last ran] (DirectSessionEnd.counters). */
  readonly counts: BigInt64Array;
  /** The bytes of parts its thread holds, given back to the node's allowance when the thread ends. */
  readonly held: Int32Array;
  /** The session's counters, where its thread says why the session ended there (readEndReason). */
  readonly counters: SharedArrayBuffer;
  /** Frames the host had sent on the apartment's session at its last heartbeat, if more had to come. */
  owed: number | undefined;
  /** When this node first found `owed` frames missing (ms since the epoch): the thread must run after it for them to count as lost. */
  missingSince: number | undefined;
  /** Why this node ended it, when it did (reported instead of the thread's exit). */
  reason: string | undefined;
}

/** One host node's session, and the apartments run for it. */
class HostedSession {
  readonly node: string;
  /** The host's epoch, and the session's id. */
  readonly epoch: string;
  readonly id: string;
  private readonly apartments = new Map<number, HostedApartment>();
  private readonly threads: ProcessThreads;
  private lastSeen = Date.now();
  private readonly timer: NodeJS.Timeout;
  private ending: Promise<void> | undefined;
  /** The host's heartbeat period, ms. */
  private readonly periodMs: number;
  /** How long a parted message from the host may go without a part, on any of its sessions (parts-watch.ts). */
  private readonly partsMs: number;
  /** The host runtime's link to this runtime's main apartment, once it opened one, and what to tell when it ends. */
  private gateway: { near: IpcTransport; ended(why: string): void } | undefined;
  /** Stops the look at the node pair's unfinished parted message. */
  private readonly stopWatching: () => void;
  /** What the host's sessions' parts draw on: the node's allowance and the host's share of it, on every thread. */
  private readonly allowance: ReassemblyBudget;

  constructor(
    private readonly connection: ClusterConnection,
    private readonly peer: NatsPeer,
    hello: { epoch: string; periodMs: number; misses: number },
    private readonly nats: NatsSettings,
    /** The session is ending (`ended` settles once it has): it is no longer the host's current one. */
    private readonly forget: (session: HostedSession, ended: Promise<void>) => void,
    private readonly warn: (message: string) => void,
    private readonly gateways: (node: string, near: IpcTransport) => (why: string) => void,
  ) {
    this.node = peer.node;
    this.epoch = hello.epoch;
    this.periodMs = hello.periodMs;
    this.partsMs = partsTimeMs(hello.periodMs, hello.misses);
    this.id = peer.id;
    this.allowance = connection.reassemblyFor(this.node);
    this.threads = new ProcessThreads((link, code, description) => {
      const apt = this.apartments.get(link);
      // This node's own reason first; else the thread's, whose session ended there (parts past an
      // allowance, frames lost), which the host would otherwise learn only as a thread that exited.
      const ended = apt && readEndReason(apt.counters);
      const reason = apt?.reason ?? (ended && `the apartment's session ended on node '${connection.name}': ${ended} (${description})`);
      // A thread that was terminated ran no more code: what it held of the allowance is given back here.
      if (apt) this.allowance.giveAll(apt.held);
      this.apartments.delete(link);
      // The host adds where it ran (the node and its epoch).
      if (peer.connected) peer.send([IpcTag.Exited, link, { code, description: reason ?? description }]);
    });
    peer.on('message', (message) => this.fromHost(message));
    peer.on('gap', (description) => void this.end(description));
    // The node pair's parts are also ended at the second heartbeat after their first (NatsPeer.confirm),
    // but a host may declare an hour's period, or send no heartbeat for its whole 1000 h.
    this.stopWatching = watchParts(peer, hello.periodMs, this.partsMs);
    const limit = hello.periodMs * hello.misses;
    this.timer = setInterval(() => {
      if (Date.now() - this.lastSeen > limit) void this.end(`node '${this.node}' sent no heartbeat for ${limit} ms (${hello.misses} × ${hello.periodMs} ms)`);
    }, hello.periodMs);
    this.timer.unref();
  }

  get count(): number {
    return this.apartments.size;
  }

  get live(): boolean {
    return this.peer.connected;
  }

  get sent(): number {
    return this.peer.sent;
  }

  /** Frames each apartment's thread has sent on its session. */
  linkCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [link, apt] of this.apartments) counts[link] = Number(Atomics.load(apt.counts, 0));
    return counts;
  }

  /**
   * The host's heartbeat came, saying how many frames it had sent on each session when it did. A
   * heartbeat later every one of them must have come: an apartment whose session lost some ends.
   */
  seen(sent?: number, links?: Readonly<Record<string, number>>): void {
    this.lastSeen = Date.now();
    if (sent !== undefined) this.peer.confirm(sent);
    for (const [key, count] of Object.entries(links ?? {})) {
      const apt = this.apartments.get(Number(key));
      if (!apt || apt.reason) continue;
      const received = Number(Atomics.load(apt.counts, 1));
      if (apt.owed !== undefined && received < apt.owed) {
        // Lost, or not read yet: a thread busy in a long synchronous call reads nothing. Lost only
        // once its loop ran after they were found missing (its mark comes at least once a period).
        const ranAt = Number(Atomics.load(apt.counts, 2));
        apt.missingSince ??= Date.now();
        if (ranAt <= apt.missingSince) continue;
        apt.reason = `[link-gap] node '${this.node}' had sent ${apt.owed} frames to the apartment and only ${received} came, though the apartment's thread has run since (a NATS server that went away took the rest)`;
        this.threads.terminate(Number(key));
        continue;
      }
      apt.missingSince = undefined;
      apt.owed = count > received ? count : undefined;
    }
  }

  /** The host is gone or this node leaves: end every apartment run for it, then the session. */
  end(why: string): Promise<void> {
    if (this.ending) return this.ending;
    clearInterval(this.timer);
    this.stopWatching();
    this.ending = (async () => {
      if (this.threads.running) this.warn(`[node-host-gone] ${why}: ending the ${this.apartments.size} apartment(s) this node ran for it`);
      this.gateway?.ended(why);
      this.gateway?.near.close();
      await this.threads.terminateAll();
      this.peer.disconnect();
      this.connection.endSession(this.peer);
    })();
    this.forget(this, this.ending);
    return this.ending;
  }

  private fromHost(message: unknown): void {
    if (this.ending) return;
    if (isIpc(message, IpcTag.Boot)) {
      const [, link, payload] = message;
      const checked = this.checkBoot(link, payload);
      if (typeof checked === 'string') {
        this.peer.send([IpcTag.Exited, link, { code: 1, description: `[node-boot] node '${this.connection.name}' refused to start the apartment: ${checked}` }]);
        return;
      }
      if (this.threads.has(link)) return;
      if (this.apartments.size >= MAX_APARTMENTS_PER_HOST) {
        this.peer.send([IpcTag.Exited, link, { code: 1, description: `[node-boot] node '${this.connection.name}' already runs ${MAX_APARTMENTS_PER_HOST} apartments for node '${this.node}'; close some first` }]);
        return;
      }
      const counters = new SharedArrayBuffer(SESSION_COUNTERS_BYTES);
      this.apartments.set(link, { counts: new BigInt64Array(counters, 0, 3), held: new Int32Array(counters, HELD_OFFSET, 1), counters, owed: undefined, missingSince: undefined, reason: undefined });
      const session: DirectSessionEnd = {
        ...checked.session, node: this.connection.name, servers: [...this.nats.servers], auth: this.nats.auth, counters, tickMs: this.periodMs,
        reassembly: this.allowance.memory, reassemblyShare: this.allowance.share!, partsMs: this.partsMs,
      };
      const end: NatsEnd = { nats: link, session };
      this.threads.run(link, { ...checked.boot, link: end }, checked.resourceLimits);
    } else if (isIpc(message, IpcTag.Gateway)) {
      // One link between the two runtimes per session: a second ask changes nothing.
      if (this.gateway || message[1] !== GATEWAY_LINK) return;
      const near = new IpcTransport(GATEWAY_LINK, this.peer);
      this.gateway = { near, ended: this.gateways(this.node, near) };
    } else if (isIpc(message, IpcTag.Terminate)) {
      const link = message[1];
      if (this.threads.has(link)) this.threads.terminate(link);
      else this.peer.send([IpcTag.Exited, link, { code: 0, description: `node '${this.connection.name}' runs no apartment of link ${link}` }]);
    }
  }

  /**
   * A boot record from the host, checked as far as this node relies on it before the thread starts:
   * the apartment's session must be this session's, on a subject of this node's, answering to the host's inbox.
   */
  private checkBoot(link: number, payload: unknown): { boot: ApartmentBoot; resourceLimits: ResourceLimits | undefined; session: Pick<DirectSessionEnd, 'id' | 'host' | 'subject' | 'reply'> } | string {
    const { boot, resourceLimits } = (payload ?? {}) as { boot?: Partial<ApartmentBoot>; resourceLimits?: unknown };
    if (typeof boot !== 'object' || boot === null) return 'the boot record is missing';
    if (natsLinkNumber(boot.link) !== link) return "its link is not the 'nats' end of the link it came on";
    if (!Number.isSafeInteger(boot.id) || typeof boot.name !== 'string' || !Array.isArray(boot.classes) || !Array.isArray(boot.linkKinds) || !Array.isArray(boot.hooks)) {
      return 'the boot record lacks an id, a name, classes, link kinds or hooks';
    }
    const limits = resourceLimitsProblem(resourceLimits);
    if (limits) return limits;
    const session = (boot.link as { session?: Partial<DirectSessionEnd> }).session;
    if (session?.id !== `${this.id}/${link}` || session.host !== this.node) return "its session is not this host's session for the link";
    // Both subjects end in the name of the node that publishes to them (cluster-node.ts).
    if (session.reply !== this.connection.inboxFor(this.node, this.epoch)) return "its session does not answer to the host's inbox";
    if (typeof session.subject !== 'string' || !SUBJECT.test(session.subject) || !session.subject.startsWith(`${this.connection.inbox}.${this.node}.`)) return "its session's subject is not one of this node's for the host";
    return { boot: boot as ApartmentBoot, resourceLimits: resourceLimits as ResourceLimits | undefined, session: { id: session.id, host: session.host, subject: session.subject, reply: session.reply } };
  }
}
