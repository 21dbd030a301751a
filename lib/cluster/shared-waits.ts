// A node's part in finding deadlocks across runtimes (docs/cluster.md, "Deadlocks across runtimes").
// While this runtime holds a link to another runtime (references between runtimes), it shares its
// waits with the cluster's coordinator: the node that holds the directory's `role.deadlocks` claim,
// taken by the first linked node that finds it free. Each wait's start and end go to the
// coordinator, batched per turn of the event loop, and once a heartbeat period all waits go again
// in full: core NATS may drop a message, and a new coordinator learns every wait that way. The
// coordinator's questions (does this wait still hold; refuse it) are answered only when they come
// from the node the directory names. A runtime with no link to another shares nothing and pays
// nothing. Main thread only.
import type { WaitEdge } from '../../apartments/admission.js';
import type { NatsClient, NatsMessage } from '../../marshal/transports/nats-client.js';
import { publishOrDrop, subscribeGuarded } from '../../marshal/transports/nats-connect.js';
import type { Heartbeat } from '../../apartments/hosts/heartbeat-pipe.js';
import type { WaitSharing, WaitSource } from '../wait-graph.js';
import type { ClusterDirectory } from './cluster-directory.js';
import { DeadlockCoordinator } from './deadlock-coordinator.js';
import { MAX_EDGES_PER_REPORT, MAX_HOLDERS, parseBreakAnswer, parseConfirmAnswer, parseWaitsMessage, type SharedWait, type WaitRef, type WaitsMessage, type WaitsReport } from './wait-messages.js';

/** The directory key (namespace `role`) whose holder coordinates. */
const ROLE = 'deadlocks';
/** How many malformed waits messages a node drops before it says so again. */
const DROPPED_REPORT_EVERY = 1_000;

/** Who this node is, and what it reaches the cluster through. */
export interface WaitsNode {
  readonly nc: NatsClient;
  readonly cluster: string;
  readonly name: string;
  readonly epoch: string;
  readonly heartbeat: Heartbeat;
  readonly directory: () => ClusterDirectory;
  /** Whether this runtime holds a link to another runtime now. */
  readonly linked: () => boolean;
  readonly warn: (message: string) => void;
}

export class SharedWaits implements WaitSharing {
  /** The node the directory named coordinator at the last look; undefined when none. */
  private coordinator: string | undefined;
  /** This node's coordinator, while it holds the role. */
  private coordinating: DeadlockCoordinator | undefined;
  /** Changes not sent yet, by `apartment:id`: a wait, or its end. */
  private readonly pending = new Map<string, SharedWait | readonly [number, number]>();
  private flushing = false;
  private ticking = false;
  private dropped = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly node: WaitsNode, private readonly source: WaitSource) {
    const failed = (err: unknown): void => node.warn(`[node-internal] node '${node.name}' failed to handle a waits message: ${(err as Error)?.stack ?? String(err)}`);
    subscribeGuarded(node.nc, `${node.cluster}.${node.name}.waits.*`, (msg) => void this.received(msg).catch(failed), failed);
    this.timer = setInterval(() => void this.tick(), node.heartbeat.periodMs);
    this.timer.unref();
  }

  /** How many waits this node holds as coordinator (0 when it does not coordinate). */
  get coordinatedWaits(): number {
    return this.coordinating?.size ?? 0;
  }

  added(edge: WaitEdge): void {
    if (this.coordinator === undefined || !this.node.linked() || !sharable(edge)) return;
    this.queue(`${edge.apartment}:${edge.id}`, this.shared(edge));
  }

  removed(apartment: number, id: number): void {
    if (this.coordinator === undefined || !this.node.linked()) return;
    this.queue(`${apartment}:${id}`, [apartment, id]);
  }

  /** The directory reports a key this node held as lost. */
  lost(key: string): void {
    if (key !== `role.${ROLE}`) return;
    this.coordinating = undefined;
    this.coordinator = undefined;
  }

  close(): void {
    clearInterval(this.timer);
    this.coordinating = undefined;
    this.coordinator = undefined;
    this.pending.clear();
  }

  /** Once a period: forget the waits of nodes long silent, find the coordinator (or become it), send every wait. */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const { periodMs, misses } = this.node.heartbeat;
      this.coordinating?.sweep(Date.now() - periodMs * misses);
      if (!this.node.linked()) return;
      await this.findCoordinator();
      if (this.coordinator === undefined) return;
      const all = [...this.source.edges()].filter(sharable).map((edge) => this.shared(edge));
      this.pending.clear();
      for (let at = 0; at === 0 || at < all.length; at += MAX_EDGES_PER_REPORT) {
        this.send({ op: 'report', full: at === 0, add: all.slice(at, at + MAX_EDGES_PER_REPORT), gone: [] });
      }
    } catch {
      // The directory did not answer: try again next period.
    } finally {
      this.ticking = false;
    }
  }

  private async findCoordinator(): Promise<void> {
    const directory = this.node.directory();
    let holder = await directory.lookup(ROLE, 'role');
    if (!holder && (await directory.claim(ROLE, '', 'role'))) holder = { node: this.node.name, epoch: this.node.epoch, value: '' };
    // This node's name held by an earlier run of it: nobody coordinates until that claim expires.
    const current = holder && !(holder.node === this.node.name && holder.epoch !== this.node.epoch) ? holder.node : undefined;
    if (current === this.node.name) {
      this.coordinating ??= new DeadlockCoordinator({
        confirm: (node, waits) => this.confirm(node, waits),
        breakWait: (node, wait, message) => this.breakWait(node, wait, message),
        warn: this.node.warn,
      });
    } else {
      this.coordinating = undefined;
    }
    this.coordinator = current;
  }

  private queue(key: string, change: SharedWait | readonly [number, number]): void {
    this.pending.set(key, change);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      const changes = [...this.pending.values()];
      this.pending.clear();
      const add = changes.filter((change): change is SharedWait => !Array.isArray(change));
      const gone = changes.filter((change): change is readonly [number, number] => Array.isArray(change));
      for (let at = 0; at < Math.max(add.length, gone.length); at += MAX_EDGES_PER_REPORT) {
        this.send({ op: 'report', full: false, add: add.slice(at, at + MAX_EDGES_PER_REPORT), gone: gone.slice(at, at + MAX_EDGES_PER_REPORT) });
      }
    });
  }

  private send(report: WaitsReport): void {
    const to = this.coordinator;
    if (to === undefined) return;
    if (to === this.node.name) this.coordinating?.report(this.node.name, report, Date.now());
    else publishOrDrop(this.node.nc, this.subject(to), JSON.stringify(report));
  }

  private shared(edge: WaitEdge): SharedWait {
    return { apartment: edge.apartment, id: edge.id, waiter: edge.waiter, holders: edge.holders, object: edge.object.slice(0, 200), method: edge.method.slice(0, 200), label: this.source.label(edge.apartment).slice(0, 200) };
  }

  private async confirm(node: string, waits: readonly WaitRef[]): Promise<boolean[] | undefined> {
    if (node === this.node.name) return waits.map((w) => this.source.holds(w.apartment, w.id, w.waiter, w.holders));
    const answer = await this.request(node, { op: 'confirm', waits });
    return answer && parseConfirmAnswer(answer.data, waits.length);
  }

  private async breakWait(node: string, wait: WaitRef, message: string): Promise<boolean> {
    if (node === this.node.name) return this.source.breakWait(wait.apartment, wait.id, wait.waiter, wait.holders, message);
    const answer = await this.request(node, { op: 'break', wait, message });
    return answer !== undefined && parseBreakAnswer(answer.data);
  }

  private async request(node: string, message: WaitsMessage): Promise<NatsMessage | undefined> {
    const { periodMs, misses } = this.node.heartbeat;
    return this.node.nc.request(this.subject(node), JSON.stringify(message), { timeout: periodMs * misses }).catch(() => undefined);
  }

  private subject(to: string): string {
    return `${this.node.cluster}.${to}.waits.${this.node.name}`;
  }

  /** A waits message node `sender` published on this node's subject. */
  private async received(msg: NatsMessage): Promise<void> {
    const sender = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    const message = parseWaitsMessage(msg.data);
    if (!message) {
      if (this.dropped++ % DROPPED_REPORT_EVERY === 0) this.node.warn(`[waits-dropped] node '${this.node.name}' dropped a malformed waits message from node '${sender.slice(0, 100)}' (${this.dropped} dropped so far)`);
      return;
    }
    switch (message.op) {
      case 'report':
        // Sent to this node as coordinator: one that no longer is (or never was) has no use for it.
        this.coordinating?.report(sender, message, Date.now());
        return;
      case 'confirm': {
        if (!msg.reply) return;
        const held = (await this.fromCoordinator(sender)) ? message.waits.map((w) => this.source.holds(w.apartment, w.id, w.waiter, w.holders)) : message.waits.map(() => false);
        msg.respond(JSON.stringify({ held }));
        return;
      }
      case 'break': {
        const broken = (await this.fromCoordinator(sender)) && this.source.breakWait(message.wait.apartment, message.wait.id, message.wait.waiter, message.wait.holders, message.message);
        if (msg.reply) msg.respond(JSON.stringify({ broken }));
        return;
      }
      default: {
        const never: never = message;
        return never;
      }
    }
  }

  /** Whether `sender` holds the coordinator's role in the directory now (asked afresh: a break is rare, and costly when wrong). */
  private async fromCoordinator(sender: string): Promise<boolean> {
    const holder = await this.node.directory().lookup(ROLE, 'role').catch(() => undefined);
    return holder?.node === sender;
  }
}

/** Whether a wait fits a report: one held by more readers than a report carries is not watched across runtimes. */
function sharable(edge: WaitEdge): boolean {
  return edge.holders.length > 0 && edge.holders.length <= MAX_HOLDERS;
}
