// Another node of the cluster as the host of apartments it runs for this one: DCOM's remote server,
// reached over NATS. One per node while it serves: the first apartment placed there says hello
// (learning the node's epoch and opening the node pair's session), later ones join. It sends each
// boot record on the session, pings the node once per period for all its apartments (one heartbeat
// per node pair, not per object), and decides when the node is gone: at once when nobody listens on
// its control subject any more (the server dropped its connection: it exited, was killed or lost
// the server) or it answers from a new epoch (it restarted), or after `misses` unanswered pings
// (frozen, or cut off), or when a frame of the session was lost. Then every apartment there ends
// with a sentence saying why, as for a dead process. Main thread only.
import type { ResourceLimits } from 'node:worker_threads';
import type { IpcTransport } from '../../marshal/transports/ipc-transport.js';
import { IpcTag, isIpc } from '../../marshal/transports/ipc-transport.js';
import type { NatsPeer } from '../../marshal/transports/nats-peer.js';
import type { ClusterConnection } from './cluster-connection.js';
import type { Heartbeat } from './heartbeat-pipe.js';
import type { ServedApartment } from './process-server.js';

/** The exit code an apartment reports when its node is gone. */
const NODE_GONE_CODE = 1;
/** How much of a reported end a message quotes. */
const DESCRIPTION_CHARS = 2_000;

/** A boot record on its way to the node, once the session is open. */
export interface NodeBoot {
  readonly link: number;
  readonly boot: object;
  readonly resourceLimits: ResourceLimits | undefined;
  readonly near: IpcTransport;
}

/** Nodes that run apartments for this one, by name, while they serve. */
const serving = new Map<string, RemoteNode>();
/** Sessions opened so far by this process: each new one has a new id. */
let sessionsOpened = 0;

/** The node called `node` as the host of this node's apartments there: the live one, or a new one. */
export function remoteNode(connection: ClusterConnection, node: string, heartbeat: Heartbeat): RemoteNode {
  const known = serving.get(node);
  if (known?.live && known.connection === connection) return known;
  const made = new RemoteNode(connection, node, heartbeat);
  serving.set(node, made);
  return made;
}

/** Every node serving apartments for `connection` ends (this node leaves the cluster). */
export function leaveRemoteNodes(connection: ClusterConnection, why: string): void {
  for (const remote of [...serving.values()]) if (remote.connection === connection) remote.gone(why);
}

/** One other node and the apartments it runs for this one, by link number. */
export class RemoteNode {
  private readonly apartments = new Map<number, ServedApartment>();
  private pending: NodeBoot[] | undefined = [];
  private session: NatsPeer | undefined;
  private epoch: string | undefined;
  /** This session's id: this node's epoch and a count, so no two sessions of any run share one. */
  private readonly sessionId: string;
  private timer: NodeJS.Timeout | undefined;
  private pinging = false;
  private misses = 0;
  private over = false;

  constructor(readonly connection: ClusterConnection, readonly node: string, readonly heartbeat: Heartbeat) {
    this.sessionId = `${connection.epoch}.${++sessionsOpened}`;
    void this.hello();
  }

  get identity(): string {
    return this.epoch ? `node '${this.node}' (epoch ${this.epoch})` : `node '${this.node}'`;
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
    this.apartments.set(boot.link, apartment);
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

  /** Open `near`, a further link to an apartment there, on the session; false before it is open. */
  openLink(near: IpcTransport): boolean {
    if (!this.session?.connected || this.over) return false;
    near.open(this.session);
    return true;
  }

  /** The node is gone, for the reason `why`: its session ends and every apartment there with it. */
  gone(why: string): void {
    if (this.over) return;
    this.over = true;
    if (serving.get(this.node) === this) serving.delete(this.node);
    if (this.timer) clearInterval(this.timer);
    const session = this.session;
    if (session) {
      session.disconnect();
      this.connection.endSession(session);
    }
    const left = [...this.apartments.values()];
    this.apartments.clear();
    const pendingBoots = this.pending ?? [];
    this.pending = undefined;
    for (const boot of pendingBoots) boot.near.close();
    for (const apartment of left) apartment.ended(NODE_GONE_CODE, why);
  }

  private async hello(): Promise<void> {
    const { name, epoch } = this.connection;
    const { periodMs, misses } = this.heartbeat;
    // The first answer may take a while on a busy node: as long as the heartbeat allows silence.
    const outcome = await this.connection.control(this.node, { op: 'hello', from: name, epoch, session: this.sessionId, periodMs, misses }, periodMs * misses);
    if (this.over) return;
    if (outcome.kind !== 'reply' || !outcome.reply.knows) {
      const why = outcome.kind === 'absent'
        ? `[node-unreachable] no node '${this.node}' listens on cluster '${this.connection.cluster}'; start it with Runtime.start({ node: { name: '${this.node}', nats } }), or place the apartment on another node`
        : outcome.kind === 'timeout'
          ? `[node-unreachable] node '${this.node}' did not answer within ${periodMs * misses} ms; check that it runs and reaches the NATS server`
          : `[node-refused] node '${this.node}' refused to run apartments for this node: ${outcome.reply.refusal ?? 'no reason given'}`;
      const error = new Error(why);
      for (const apartment of this.apartments.values()) apartment.failed(error);
      return this.gone(why);
    }
    this.epoch = outcome.reply.epoch;
    const session = this.connection.session(this.node, this.epoch, this.sessionId);
    this.session = session;
    session.on('message', (message) => this.fromNode(message));
    session.on('gap', (description) => this.gone(`${this.identity}: ${description}`));
    const pending = this.pending ?? [];
    this.pending = undefined;
    for (const boot of pending) this.sendBoot(boot);
    this.timer = setInterval(() => void this.ping(), periodMs);
    this.timer.unref();
  }

  private sendBoot({ link, boot, resourceLimits, near }: NodeBoot): void {
    this.session!.send([IpcTag.Boot, link, { boot, resourceLimits }]);
    near.open(this.session!);
  }

  private async ping(): Promise<void> {
    // One ping at a time: one still unanswered when the next is due counts as missed then.
    if (this.pinging || this.over) return;
    this.pinging = true;
    const { periodMs, misses } = this.heartbeat;
    const { name, epoch } = this.connection;
    const sent = this.session?.sent ?? 0;
    const outcome = await this.connection.control(this.node, { op: 'ping', from: name, epoch, session: this.sessionId, sent }, periodMs);
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
    if (outcome.reply.epoch !== this.epoch) return this.gone(`${this.identity} restarted (it answers from epoch ${outcome.reply.epoch}); what ran there before is gone`);
    if (!outcome.reply.knows) return this.gone(`${this.identity} no longer runs apartments for this node: it counted this node gone, or lost frames of this node's`);
    if (outcome.reply.sent !== undefined) this.session?.confirm(outcome.reply.sent);
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
    const apartment = this.apartments.get(link);
    if (!apartment) return;
    this.apartments.delete(link);
    apartment.ended(code, `${description} (on ${this.identity})`);
  }
}
