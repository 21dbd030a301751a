// This process as a node of a cluster (docs/cluster.md): its connection to NATS, its name and
// epoch, its subjects (`<cluster>.<name>.ctl.<sender>` answers control requests;
// `<cluster>.<name>.<epoch>.<sender>` is the inbox every session with another node publishes to;
// `<cluster>.<name>.waits.<sender>` carries deadlock detection across runtimes, shared-waits.ts),
// the sessions by node and id, the directory in JetStream's key-value store, and the node server
// that runs apartments for other nodes. Every subject another node publishes to ends in that node's
// name, and what it sends counts only in that name: a request or frame that names another sender is
// refused, and a server whose permissions let each node publish only under its own name (docs/
// cluster.md) leaves no node a way to speak for another. The runtime facade joins when started with
// `node` and leaves when it closes. Main thread only.
import { randomBytes } from 'node:crypto';
import type { ClusterConnection, ControlOutcome, ControlReply, ControlRequest } from '../../apartments/hosts/cluster-connection.js';
import type { Heartbeat } from '../../apartments/hosts/heartbeat-pipe.js';
import { leaveRemoteNodes, servingNode } from '../../apartments/hosts/remote-node.js';
import { DisconnectedError, InUseError, ModuleLoadError } from '../../marshal/errors.js';
import { decodeFrame, NatsPeer } from '../../marshal/transports/nats-peer.js';
import { ReassemblyBudget } from '../../marshal/transports/reassembly-budget.js';
import { ClusterDirectory, type Holding } from './cluster-directory.js';
import type { NatsClient, NatsMessage } from '../../marshal/transports/nats-client.js';
import { connectNats, publishOrDrop, subscribeGuarded } from '../../marshal/transports/nats-connect.js';
import { nodeConnectionName, parseDisconnect, type NodeDisconnect } from './disconnect-advisory.js';
import { NodeServer } from './node-server.js';
import { RuntimeReferences, type ReferenceStats } from './runtime-references.js';
import { SharedWaits } from './shared-waits.js';
import { OPENER_ID, SERVER_ID } from './runtime-gateway.js';
import type { WaitGraph } from '../wait-graph.js';
import type { InterfaceTable } from '../interface-table.js';
import type { LocalApartment } from '../../apartments/local-apartment.js';
import type { Remote } from '../../marshal/proxy.js';
import { checkThreadCredentials } from './thread-credentials.js';
import { checkNodeOptions, type NodeOptions, type ResolvedNodeOptions } from './node-options.js';
import { EPOCH, parseControl, parseReply } from './control-messages.js';

/** Node runs whose last probe time is kept (only runs this node has sessions with are probed). */
const MAX_PROBED = 1_024;
/** How many frames a node drops (unknown sender or epoch, malformed) before it says so again. */
const DROPPED_REPORT_EVERY = 1_000;

/** What the runtime's users see of the node: its identity and the cluster's directory. */
export interface ClusterView {
  readonly name: string;
  readonly epoch: string;
  /** Claim `key` for this node with `value`, once in the cluster; false when another node holds it. */
  claim(key: string, value: string): Promise<boolean>;
  /** Who holds `key`, and its value; undefined when nobody does. */
  lookup(key: string): Promise<{ node: string; epoch: string; value: string } | undefined>;
  /** Give up a claim of this node's. */
  release(key: string): Promise<void>;
  /** How many apartments this node runs for other nodes now. */
  hosted(): number;
  /** Publish `object` by reference as `name` for the runtimes of every node (COM's running object table); InUseError when one already does. */
  publish(name: string, object: object): Promise<void>;
  /** Stop publishing `name` (references already handed out stay); false when this runtime did not publish it. */
  unpublish(name: string): Promise<boolean>;
  /** The object a runtime of the cluster publishes as `name`: a proxy to it (the object itself when this runtime publishes it). */
  open<T = unknown>(name: string): Promise<Remote<T>>;
  /** What references between this runtime and others hold now. */
  references(): ReferenceStats;
}

/**
 * Where the answers to a node's requests (control requests, the directory's) come: under its own
 * name, so the server can let each node subscribe to its own answers only (docs/cluster.md), where
 * a shared `_INBOX.>` let any node read every other's.
 */
export function nodeInbox(cluster: string, name: string): string {
  return `_INBOX.${cluster}.${name}`;
}

/** Join the cluster `options` names; throws with what to do when NATS or JetStream cannot be used. */
export async function joinCluster(options: NodeOptions, warn: (message: string) => void, local: LocalApartment, waits: WaitGraph): Promise<ClusterNode> {
  const settings = checkNodeOptions(options);
  const epoch = `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
  const nc = await connectNats(settings.servers, nodeConnectionName(settings.cluster, settings.name, epoch), settings.auth, nodeInbox(settings.cluster, settings.name)).catch((err: unknown) => {
    if (err instanceof ModuleLoadError) throw err;
    const message = (err as Error)?.message ?? String(err);
    const fix = /authori[sz]ation|authentication/i.test(message) ? 'give the credentials its account expects in node.auth' : 'start nats-server there, or fix node.nats';
    throw new DisconnectedError(`[cluster-connect] could not reach a NATS server at ${settings.servers.join(', ')}: ${message}; ${fix}`, { cause: err });
  });
  const node = new ClusterNode(nc, settings, epoch, warn, local, waits);
  try {
    await node.join();
    return node;
  } catch (err) {
    // Its directory (opened before the name was refused) renews on a timer of its own.
    await node.close();
    throw err;
  }
}

export class ClusterNode implements ClusterConnection {
  readonly name: string;
  readonly cluster: string;
  readonly server: NodeServer;
  readonly heartbeat: Heartbeat;
  private readonly references: RuntimeReferences;
  private readonly sessions = new Map<string, NatsPeer>();
  /** The bytes of unfinished parted messages all sessions with other nodes may hold together. */
  private readonly reassembly = new ReassemblyBudget();
  /** Each node's share of that allowance, while this node has a session with it. */
  private readonly shares = new Map<string, ReassemblyBudget>();
  private directory: ClusterDirectory | undefined;
  private dropped = 0;
  private closing: Promise<void> | undefined;
  /** When each node run reported disconnected was last probed: at most once a heartbeat period each. */
  private readonly probed = new Map<string, number>();

  /** This runtime's part in finding deadlocks across runtimes, once joined. */
  private sharedWaits: SharedWaits | undefined;

  constructor(private readonly nc: NatsClient, private readonly settings: ResolvedNodeOptions, readonly epoch: string, private readonly warn: (message: string) => void, local: LocalApartment, private readonly waits: WaitGraph) {
    this.name = settings.name;
    this.cluster = settings.cluster;
    this.heartbeat = settings.heartbeat;
    this.references = new RuntimeReferences(this, () => this.directory!, local, warn);
    // The apartments' threads run other nodes' code: they get the credentials meant for them, if any.
    this.server = new NodeServer(this, { servers: settings.servers, auth: settings.threadAuth ?? settings.auth }, warn, (node, near) => this.references.serve(node, near));
  }

  /** Claim the node's name, then listen: a second node of the same name is refused before it answers anything. */
  async join(): Promise<void> {
    if (this.settings.threadAuth) await checkThreadCredentials(this.settings.servers, this.cluster, this.name, this.epoch, this.settings.threadAuth);
    this.directory = await ClusterDirectory.open(this.nc, this.cluster, this.settings.leaseMs, this.name, this.epoch, this.warn, (key) => {
      if (key === `node.${this.name}`) void this.nameLost();
      else this.sharedWaits?.lost(key);
    });
    const claimed = await this.directory.claimNode(async () => (await this.control(this.name, { op: 'probe', from: this.name, epoch: this.epoch }, this.heartbeat.periodMs * this.heartbeat.misses)).kind === 'absent');
    if (!claimed) {
      throw new InUseError(`[node-name-taken] node '${this.name}' already runs in cluster '${this.cluster}'; give this node another name, or stop the other one`);
    }
    const failed = (what: string) => (err: unknown): void => this.warn(`[node-internal] node '${this.name}' failed to handle ${what}: ${(err as Error)?.stack ?? String(err)}`);
    subscribeGuarded(this.nc, `${this.inbox}.*`, (msg) => this.fromInbox(lastToken(msg.subject), msg.data), failed('a frame on its inbox'));
    subscribeGuarded(this.nc, `${this.cluster}.${this.name}.ctl.*`, (msg) => {
      if (!msg.reply) return;
      const request = parseControl(msg.data);
      const sender = lastToken(msg.subject);
      const reply: ControlReply = request && request.from !== sender
        ? { epoch: this.epoch, knows: false, refusal: `a request in the name of node '${request.from}' published on node '${sender}''s subject: a node asks in its own name only` }
        : this.server.control(request);
      msg.respond(JSON.stringify(reply));
    }, failed('a control request'));
    if (this.settings.disconnects) {
      subscribeGuarded(this.nc, this.settings.disconnects, (msg) => {
        const gone = parseDisconnect(msg.data, this.cluster);
        if (gone && gone.node !== this.name) void this.disconnected(gone);
      }, failed('a disconnect advisory'));
    }
    this.sharedWaits = new SharedWaits({ nc: this.nc, cluster: this.cluster, name: this.name, epoch: this.epoch, heartbeat: this.heartbeat, directory: () => this.directory!, linked: () => this.references.linked, warn: this.warn }, this.waits);
    this.waits.share(this.sharedWaits);
    await this.nc.flush();
    // The server closed the connection for good (not a reconnect): nothing of the cluster is reachable.
    void this.nc.closed().then(() => this.lost());
  }

  /** How people read `id` when it is the other side of a link between runtimes (runtime-gateway.ts); undefined for any other id. */
  linkLabel(id: number): string | undefined {
    return id === OPENER_ID || id === SERVER_ID ? 'the runtime of another node (a link between runtimes)' : undefined;
  }

  /** Make the cookies of `table` (the runtime's global interface table) valid across the cluster. */
  shareCookies(table: InterfaceTable): void {
    table.share(this.references.shareCookies(table, `@${this.name}.${this.epoch}`));
  }

  /** What users see of this node. */
  get view(): ClusterView {
    const directory = this.directory!;
    return {
      name: this.name,
      epoch: this.epoch,
      claim: (key, value) => directory.claim(key, value),
      lookup: (key) => directory.lookup(key),
      release: (key) => directory.release(key),
      hosted: () => this.server.hostedApartments,
      publish: (name, object) => this.references.publish(name, object),
      unpublish: (name) => this.references.unpublish(name),
      open: <T>(name: string) => this.references.open(name) as Promise<Remote<T>>,
      references: () => ({ ...this.references.stats(), coordinatedWaits: this.sharedWaits?.coordinatedWaits ?? 0 }),
    };
  }

  async control(node: string, request: ControlRequest, timeoutMs: number): Promise<ControlOutcome> {
    const answer = await this.request(`${this.cluster}.${node}.ctl.${this.name}`, JSON.stringify(request), timeoutMs);
    if (typeof answer === 'string') return { kind: answer };
    const reply = parseReply(answer.data);
    // An answer that no node gives counts as none.
    return reply ? { kind: 'reply', reply } : { kind: 'timeout' };
  }

  /** A request to `subject`: its answer, 'absent' when nobody listens there, or 'timeout'. */
  private async request(subject: string, body: string, timeoutMs: number): Promise<NatsMessage | 'absent' | 'timeout'> {
    try {
      return await this.nc.request(subject, body, { timeout: Math.max(1, Math.round(timeoutMs)) });
    } catch (err) {
      const cause = (err as { cause?: { name?: string } })?.cause;
      if (cause?.name === 'NoRespondersError' || /no responders/i.test((err as Error)?.message ?? '')) return 'absent';
      // A timeout, or the connection is between servers: either way no answer came.
      return 'timeout';
    }
  }

  get inbox(): string {
    return this.inboxOf(this.name, this.epoch);
  }

  inboxOf(node: string, epoch: string): string {
    return `${this.cluster}.${node}.${epoch}`;
  }

  inboxFor(node: string, epoch: string): string {
    return `${this.inboxOf(node, epoch)}.${this.name}`;
  }

  session(node: string, subject: string, id: string): NatsPeer {
    const key = `${node}/${id}`;
    const known = this.sessions.get(key);
    if (known?.connected) return known;
    const nc = this.nc;
    const peer = new NatsPeer({
      name: this.name,
      publish: (bytes) => publishOrDrop(nc, subject, bytes),
      // Read at each send: a reconnect may land on a server that takes less.
      get maxPayload() {
        return nc.info?.max_payload ?? 1_048_576;
      },
      reassembly: this.reassemblyFor(node),
    }, node, id);
    this.sessions.set(key, peer);
    return peer;
  }

  endSession(peer: NatsPeer): void {
    const key = `${peer.node}/${peer.id}`;
    if (this.sessions.get(key) !== peer) return;
    this.sessions.delete(key);
    // The last session with that node: its apartments' threads ended before their session did
    // (node-server.ts), so nothing counts against its share any more.
    for (const other of this.sessions.values()) if (other.node === peer.node) return;
    this.shares.delete(peer.node);
  }

  reassemblyFor(node: string): ReassemblyBudget {
    let share = this.shares.get(node);
    if (!share) this.shares.set(node, (share = new ReassemblyBudget(this.reassembly.memory, this.reassembly.limit, undefined, new SharedArrayBuffer(4))));
    return share;
  }

  /** Leave the cluster: apartments run for others end, claims are given up, the connection drains. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.waits.share(undefined);
      this.sharedWaits?.close();
      this.references.close();
      await this.server.close();
      leaveRemoteNodes(this, `node '${this.name}' left the cluster`);
      await this.directory?.close();
      // Nothing is left to deliver (every apartment ended first); a server that is gone cannot hold this up.
      await this.nc.close().catch(() => undefined);
    })();
    return this.closing;
  }

  /** A frame node `sender` published on this node's inbox. */
  private fromInbox(sender: string, bytes: Uint8Array): void {
    const frame = decodeFrame(bytes);
    const session = typeof frame === 'string' || frame.from !== sender ? undefined : this.sessions.get(`${frame.from}/${frame.session}`);
    if (session && typeof frame !== 'string') return session.receive(frame);
    // Frames of a session that ended (one of a node's earlier epoch among them), of nodes never met, in another node's name, or malformed.
    if (this.dropped++ % DROPPED_REPORT_EVERY === 0) {
      const what = typeof frame === 'string'
        ? frame
        : frame.from !== sender
          ? `a frame in the name of node ${quoted(frame.from)} published on node '${sender}''s subject`
          : `a frame from node '${frame.from}' in session ${quoted(frame.session)}, which is not open here (it ended, or never began)`;
      this.warn(`[node-frame-dropped] node '${this.name}' dropped ${what} (${this.dropped} dropped so far)`);
    }
  }

  /**
   * The server reports the main connection of `node` in `epoch` closed. Anyone may publish on the
   * advisories' subject, so this is a reason to ask that node at once, never proof it is gone.
   */
  private async disconnected({ node, epoch, reason }: NodeDisconnect): Promise<void> {
    const remote = servingNode(this, node, epoch);
    if (!remote && !this.server.hosts(node, epoch)) return;
    // Any client of the account may publish advisories: a flood of them must not become a flood of
    // probes. Between probes the heartbeat watches the node as ever.
    const key = `${node}/${epoch}`;
    const last = this.probed.get(key);
    if (last !== undefined && Date.now() - last < this.heartbeat.periodMs) return;
    if (this.probed.size >= MAX_PROBED) this.probed.clear();
    this.probed.set(key, Date.now());
    const outcome = await this.control(node, { op: 'probe', from: this.name, epoch: this.epoch }, this.heartbeat.periodMs);
    const who = `node '${node}' (epoch ${epoch})`;
    // A reply from another epoch is the node's next run: the one the server reported is gone.
    if (outcome.kind !== 'absent' && !(outcome.kind === 'reply' && outcome.reply.epoch !== epoch)) {
      this.warn(`[node-disconnect] the NATS server reported ${who} disconnected (${reason}), but it still answers (it reconnected, or the report was forged); nothing ends`);
      return;
    }
    const why = outcome.kind === 'reply'
      ? `${who} dropped its connection to the NATS server (${reason}) and answers from epoch ${outcome.reply.epoch} now: it restarted`
      : `${who} dropped its connection to the NATS server (${reason}) and no longer listens on the cluster: it exited, was killed, or lost the server`;
    remote?.gone(why);
    this.server.hostGone(node, epoch, why);
  }

  /**
   * Another node of this name took the name over while this one could not renew it (cut off from
   * the server longer than a lease): two live nodes must not answer to one name, and the other
   * holds it now, so this one leaves the cluster. But every node may write the directory's keys
   * (docs/cluster.md), and one that deleted this key, or wrote it in the name of a run nobody runs,
   * took this node out of the cluster: the name is lost only to a run of it that listens on its
   * inbox, and otherwise this node takes it back.
   */
  private async nameLost(): Promise<void> {
    if (this.closing) return;
    const kept = await this.directory!.claimNode((holder) => this.noRunHolds(holder)).catch(() => false);
    if (this.closing) return;
    if (kept) {
      this.warn(`[node-name-contested] node '${this.name}' (epoch ${this.epoch}) found its name in the directory expired, deleted or written over, and no other run of it listens; it took the name back (any node may write the directory: give it to a trusted service if that matters)`);
      return;
    }
    this.warn(`[node-name-lost] node '${this.name}' (epoch ${this.epoch}) lost its name to another node that took it over while this one could not renew it; this node leaves the cluster`);
    leaveRemoteNodes(this, `node '${this.name}' lost its name in the cluster`);
    void this.close();
  }

  /** Whether `holder` of this node's name is no other run of it that listens: no node's holding, this run's, or a run whose inbox nobody hears. */
  private async noRunHolds(holder: Holding | undefined): Promise<boolean> {
    if (!holder || holder.node !== this.name || holder.epoch === this.epoch || !EPOCH.test(holder.epoch)) return true;
    // A run of this name listens on its inbox once it holds the name: where none does, the server
    // answers "no responders" at once. (One that took the name and listens a moment later takes it
    // back in turn at its next renewal, from this run if this one listens: one of them leaves.)
    return (await this.request(this.inboxFor(this.name, holder.epoch), '', this.heartbeat.periodMs)) === 'absent';
  }

  /** The connection is closed for good: every session ends as if its node were gone. */
  private lost(): void {
    if (this.closing) return;
    this.warn(`[cluster-lost] node '${this.name}' lost its NATS connection for good; its apartments elsewhere and those it ran for others are gone`);
    void this.server.close();
    this.sharedWaits?.close();
    // Its claims can no longer be renewed; the renewal timer would only fail.
    void this.directory?.close();
    leaveRemoteNodes(this, `node '${this.name}' lost its connection to the cluster`);
  }
}

/**
 * A name or id as a peer wrote it in a frame, for a log line: quoted and escaped, so it writes no
 * line of its own into the log, and bounded (a v8 frame's strings are as long as the frame).
 */
function quoted(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}

/** The last token of `subject`: on the subjects other nodes publish to, the sender's name. */
function lastToken(subject: string): string {
  return subject.slice(subject.lastIndexOf('.') + 1);
}
