// Another node of the cluster as the host of apartments it runs for this one: DCOM's remote server,
// reached over NATS. One per node while it serves: the first apartment placed there says hello
// (learning the node's epoch and opening the node pair's session, which carries boot records and
// the node's word on each apartment's end), later ones join. Each apartment's calls travel on a
// session of its own, between this thread and the apartment's thread there, on a subject of its
// own: its links open once that thread says hello. One ping per period covers the node and every
// apartment session (one heartbeat per node pair, not per object) and decides when the node is gone:
// at once when nobody listens on its control subject any more (the server dropped its connection:
// it exited, was killed or lost the server) or it answers from a new epoch (it restarted), or after
// `misses` unanswered pings (frozen, or cut off), or when frames of the node's session were lost.
// Then every apartment there ends with a sentence saying why, as for a dead process. Frames lost
// on one apartment's session end that apartment only. The node pair's session also carries the
// link between the two runtimes' main apartments (references between runtimes), which ends with
// it. Main thread only.
import { randomBytes } from 'node:crypto';
import type { ResourceLimits } from 'node:worker_threads';
import type { IpcTransport } from '../../marshal/transports/ipc-transport.js';
import { GATEWAY_LINK, IpcTag, isIpc } from '../../marshal/transports/ipc-transport.js';
import type { NatsEnd } from '../../marshal/transports/nats-link.js';
import type { NatsPeer } from '../../marshal/transports/nats-peer.js';
import type { ClusterConnection } from './cluster-connection.js';
import type { ServedApartment } from './process-server.js';

/** The exit code an apartment reports when its node is gone. */
const NODE_GONE_CODE = 1;
/** How much of a reported end a message quotes. */
const DESCRIPTION_CHARS = 2_000;

/** A boot record on its way to the node, once the node's session is open. */
export interface NodeBoot {
  readonly link: number;
  readonly boot: object;
  readonly resourceLimits: ResourceLimits | undefined;
  readonly near: IpcTransport;
}

/** One apartment there: its host, its own session, and the ends waiting for its thread's hello. */
interface Served {
  readonly apartment: ServedApartment;
  session: NatsPeer | undefined;
  /** Ends to open on the session once the thread listens; undefined once it does. */
  waiting: IpcTransport[] | undefined;
}

/** Nodes that run apartments for this one, by name, while they serve. */
const serving = new Map<string, RemoteNode>();

/** The node called `node` as the host of this node's apartments there: the live one, or a new one. */
export function remoteNode(connection: ClusterConnection, node: string): RemoteNode {
  const known = serving.get(node);
  if (known?.live && known.connection === connection) return known;
  const made = new RemoteNode(connection, node);
  serving.set(node, made);
  return made;
}

/** The live node called `node` serving apartments for `connection`, in its run `epoch`; undefined if none. */
export function servingNode(connection: ClusterConnection, node: string, epoch: string): RemoteNode | undefined {
  const known = serving.get(node);
  return known?.live && known.connection === connection && known.epoch === epoch ? known : undefined;
}

/** Every node serving apartments for `connection` ends (this node leaves the cluster). */
export function leaveRemoteNodes(connection: ClusterConnection, why: string): void {
  for (const remote of [...serving.values()]) if (remote.connection === connection) remote.gone(why);
}

/** One other node and the apartments it runs for this one, by link number. */
export class RemoteNode {
  private readonly apartments = new Map<number, Served>();
  private pending: NodeBoot[] | undefined = [];
  private session: NatsPeer | undefined;
  private nodeEpoch: string | undefined;
  /**
   * This session's id: this node's epoch and 64 random bits, so no two sessions of any run share
   * one and no other node can guess one to slip frames into it (a count could be guessed).
   */
  private readonly sessionId: string;
  private timer: NodeJS.Timeout | undefined;
  private pinging = false;
  private misses = 0;
  private over = false;
  /** This runtime's link to the node's runtime (references between runtimes), and what to tell when the node goes. */
  private gateway: { near: IpcTransport; ended(why: string): void } | undefined;

  constructor(readonly connection: ClusterConnection, readonly node: string) {
    this.sessionId = `${connection.epoch}.${randomBytes(8).toString('hex')}`;
    void this.hello();
  }

  /** The node's run, once it answered the hello. */
  get epoch(): string | undefined {
    return this.nodeEpoch;
  }

  get identity(): string {
    return this.nodeEpoch ? `node '${this.node}' (epoch ${this.nodeEpoch})` : `node '${this.node}'`;
  }

  get live(): boolean {
    return !this.over;
  }

  /** Run the apartment of link `link` on this node; its boot record goes out once the session is open. */
  join(apartment: ServedApartment, boot: NodeBoot): void {
    if (this.over) {
      apartment.failed(new Error(`[node-gone] ${this.identity} is gone; place the apartment on a live node`));
      apartment.ended(NODE_GONE_CODE, `${this.identity} is gone`);
      return;
    }
    this.apartments.set(boot.link, { apartment, session: undefined, waiting: [boot.near] });
    if (this.pending) this.pending.push(boot);
    else this.sendBoot(boot);
  }

  /** End the apartment of link `link`: the node ends it and reports its end (ended()). */
  terminate(link: number): void {
    if (!this.apartments.has(link)) return;
    if (this.session?.connected) this.session.send([IpcTag.Terminate, link, null]);
    else this.leave(link, `${this.identity} never started it`);
  }

  /** Give up on apartment `link` without waiting for the node's word (it did not answer in time). */
  abandon(link: number, why: string): void {
    if (this.apartments.has(link)) this.leave(link, why);
  }

  /** Open `near`, a further link to the apartment of link `link`, on its session; false when it is gone. */
  openLink(near: IpcTransport, link: number): boolean {
    const served = this.apartments.get(link);
    if (!served || this.over) return false;
    if (served.waiting) served.waiting.push(near);
    else if (served.session?.connected) near.open(served.session);
    else return false;
    return true;
  }

  /**
   * Open `near`, this runtime's link to the node's runtime, on the node pair's session once it is
   * open (one per session); `ended` hears why when the node goes. False when it is gone already.
   */
  openGateway(near: IpcTransport, ended: (why: string) => void): boolean {
    if (this.over || this.gateway) return false;
    this.gateway = { near, ended };
    if (!this.pending) this.startGateway();
    return true;
  }

  private startGateway(): void {
    this.session!.send([IpcTag.Gateway, GATEWAY_LINK, null]);
    this.gateway!.near.open(this.session!);
  }

  /** The node is gone, for the reason `why`: its sessions end and every apartment there with them. */
  gone(why: string): void {
    if (this.over) return;
    this.over = true;
    if (serving.get(this.node) === this) serving.delete(this.node);
    if (this.timer) clearInterval(this.timer);
    const gateway = this.gateway;
    this.gateway = undefined;
    gateway?.ended(why);
    gateway?.near.close();
    this.endSession(this.session);
    const left = [...this.apartments.values()];
    this.apartments.clear();
    // A boot still pending has its apartment's end among that apartment's waiting ends.
    this.pending = undefined;
    for (const served of left) {
      this.endSession(served.session);
      for (const near of served.waiting ?? []) near.close();
      served.apartment.ended(NODE_GONE_CODE, why);
    }
  }

  private async hello(): Promise<void> {
    const { name, epoch } = this.connection;
    const { periodMs, misses } = this.connection.heartbeat;
    // The first answer may take a while on a busy node: as long as the heartbeat allows silence.
    const outcome = await this.connection.control(this.node, { op: 'hello', from: name, epoch, session: this.sessionId, periodMs, misses }, periodMs * misses);
    if (this.over) return;
    if (outcome.kind !== 'reply' || !outcome.reply.knows) {
      const why = outcome.kind === 'absent'
        ? `[node-unreachable] no node '${this.node}' listens on cluster '${this.connection.cluster}'; start it with Runtime.start({ node: { name: '${this.node}', nats } }), or place the apartment on another node`
        : outcome.kind === 'timeout'
          ? `[node-unreachable] node '${this.node}' did not answer within ${periodMs * misses} ms, or answered with what no node sends; check that it runs, reaches the NATS server and runs this runtime`
          : `[node-refused] node '${this.node}' refused to run apartments for this node: ${outcome.reply.refusal ?? 'no reason given'}`;
      const error = new Error(why);
      for (const served of this.apartments.values()) served.apartment.failed(error);
      return this.gone(why);
    }
    this.nodeEpoch = outcome.reply.epoch;
    const session = this.connection.session(this.node, this.connection.inboxFor(this.node, this.nodeEpoch), this.sessionId);
    this.session = session;
    session.on('message', (message) => this.fromNode(message));
    session.on('gap', (description) => this.gone(`${this.identity}: ${description}`));
    const pending = this.pending ?? [];
    this.pending = undefined;
    for (const boot of pending) this.sendBoot(boot);
    if (this.gateway) this.startGateway();
    this.timer = setInterval(() => void this.ping(), periodMs);
    this.timer.unref();
  }

  /** Send the boot record, naming the apartment's own session: a subject of its own on the node, replies to this node's inbox. */
  private sendBoot({ link, boot, resourceLimits }: NodeBoot): void {
    const served = this.apartments.get(link);
    if (!served) return;
    const id = `${this.sessionId}/${link}`;
    const subject = `${this.connection.inboxOf(this.node, this.nodeEpoch!)}.${this.connection.name}.${this.sessionId}.${link}`;
    const session = this.connection.session(this.node, subject, id);
    served.session = session;
    session.on('message', (message) => {
      if (!isIpc(message, IpcTag.Hello) || !served.waiting) return;
      const waiting = served.waiting;
      served.waiting = undefined;
      for (const near of waiting) near.open(session);
    });
    session.on('gap', (description) => {
      this.session?.send([IpcTag.Terminate, link, null]);
      this.leave(link, `the apartment's session lost frames: ${description}`);
    });
    // The node fills in what only it knows (its name, its servers, the counters' memory).
    const end = { nats: link, session: { id, host: this.connection.name, subject, reply: `${this.connection.inbox}.${this.node}` } } as unknown as NatsEnd;
    try {
      this.session!.send([IpcTag.Boot, link, { boot: { ...boot, link: end }, resourceLimits }]);
    } catch (err) {
      // A boot record that cannot be copied (a class or hook registration holding something odd).
      const why = `[node-boot] the apartment's boot record could not be sent to ${this.identity}: ${(err as Error)?.message ?? String(err)}`;
      served.apartment.failed(new Error(why));
      this.leave(link, why);
    }
  }

  private async ping(): Promise<void> {
    // One ping at a time: one still unanswered when the next is due counts as missed then.
    if (this.pinging || this.over) return;
    this.pinging = true;
    const { periodMs, misses } = this.connection.heartbeat;
    const { name, epoch } = this.connection;
    const sent = this.session?.sent ?? 0;
    const links: Record<string, number> = {};
    for (const [link, served] of this.apartments) if (served.session && !served.waiting) links[link] = served.session.sent;
    const outcome = await this.connection.control(this.node, { op: 'ping', from: name, epoch, session: this.sessionId, sent, links }, periodMs);
    this.pinging = false;
    if (this.over) return;
    if (outcome.kind === 'absent') {
      return this.gone(`${this.identity} no longer listens on the cluster: it exited, was killed, or lost its connection to the NATS server`);
    }
    if (outcome.kind === 'timeout') {
      if (++this.misses >= misses) this.gone(`${this.identity} answered none of the last ${misses} heartbeats (one every ${periodMs} ms): it is hung, stopped or cut off, so its apartments count as gone`);
      return;
    }
    this.misses = 0;
    const reply = outcome.reply;
    if (reply.epoch !== this.nodeEpoch) return this.gone(`${this.identity} restarted (it answers from epoch ${reply.epoch}); what ran there before is gone`);
    if (!reply.knows) return this.gone(`${this.identity} no longer runs apartments for this node: it counted this node gone, or lost frames of this node's`);
    // Every session counts each answered heartbeat, whether or not the answer gave its count (none
    // is taken as nothing more sent): parts of a message begun there then end their session two
    // heartbeats on (NatsPeer.confirm), where a node that left its counts out had this node hold
    // them for good, from the allowance its sessions with every other node share.
    this.session?.confirm(reply.sent ?? 0);
    for (const [link, served] of this.apartments) served.session?.confirm(reply.links?.[link] ?? 0);
  }

  private fromNode(message: unknown): void {
    // The other node runs plugins this node does not trust with its own state: unknown links are ignored.
    if (!isIpc(message, IpcTag.Exited)) return;
    const link = message[1];
    if (!this.apartments.has(link)) return;
    const report = message[2] as { code?: unknown; description?: unknown } | null;
    const code = typeof report?.code === 'number' && Number.isInteger(report.code) ? report.code : NODE_GONE_CODE;
    const description = typeof report?.description === 'string' ? report.description.slice(0, DESCRIPTION_CHARS) : `an apartment on ${this.identity} ended`;
    this.leave(link, description, code);
  }

  private leave(link: number, description: string, code = NODE_GONE_CODE): void {
    const served = this.apartments.get(link);
    if (!served) return;
    this.apartments.delete(link);
    this.endSession(served.session);
    for (const near of served.waiting ?? []) near.close();
    served.apartment.ended(code, `${description} (on ${this.identity})`);
  }

  private endSession(session: NatsPeer | undefined): void {
    if (!session) return;
    session.disconnect();
    this.connection.endSession(session);
  }
}
