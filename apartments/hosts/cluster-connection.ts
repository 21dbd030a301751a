// What the engine's node hosts need from this process's membership of a cluster (lib/cluster/
// cluster-node.ts makes it): this node's name and epoch, a request to another node's control
// subject, and the NATS session with another node. Also the control messages nodes exchange, one
// interface each. Types and constants only.
import type { NatsPeer } from '../../marshal/transports/nats-peer.js';
import type { ReassemblyBudget } from '../../marshal/transports/reassembly-budget.js';
import type { Heartbeat } from './heartbeat-pipe.js';

/** Node → node: join node `to` as a host of apartments there, in epoch `epoch`. */
export interface HelloRequest {
  readonly op: 'hello';
  readonly from: string;
  readonly epoch: string;
  /** The session the host opens, named from its epoch: a later hello with another ends this one. */
  readonly session: string;
  /** The heartbeat this host sends: the node counts it gone after `misses` periods of silence. */
  readonly periodMs: number;
  readonly misses: number;
}

/** Node → node, once per heartbeat period: the host of apartments there is alive. */
export interface PingRequest {
  readonly op: 'ping';
  readonly from: string;
  readonly epoch: string;
  readonly session: string;
  /** Frames the host has sent on the session so far: the node checks that all of them came. */
  readonly sent: number;
  /** The same for each apartment's own session, by link number. */
  readonly links: Readonly<Record<string, number>>;
}

/** Node → node, before a node takes over a name its last holder may still use: anyone there? */
export interface ProbeRequest {
  readonly op: 'probe';
  readonly from: string;
  readonly epoch: string;
}

/** A control request, told apart by `op`. */
export type ControlRequest = HelloRequest | PingRequest | ProbeRequest;

/** The answer to every control request. */
export interface ControlReply {
  /** The answering node's epoch: a host that finds another than it joined knows the node restarted. */
  readonly epoch: string;
  /** Whether the node has the asker's session (pings), or accepted it (hello). */
  readonly knows: boolean;
  /** Why the node refused, when it did. */
  readonly refusal?: string;
  /** Frames the node has sent on the asker's session so far (pings it knows). */
  readonly sent?: number;
  /** The same for each apartment's own session, by link number. */
  readonly links?: Readonly<Record<string, number>>;
}

/** How a control request ended: an answer, nobody subscribed to the node's subject, or no answer in time. */
export type ControlOutcome =
  | { readonly kind: 'reply'; readonly reply: ControlReply }
  | { readonly kind: 'absent' }
  | { readonly kind: 'timeout' };

/** This process as a node of a cluster, as the engine's node hosts use it. Main thread only. */
export interface ClusterConnection {
  readonly name: string;
  /** This run of the node: a node that comes back has a new one. */
  readonly epoch: string;
  /** The cluster's subject prefix, for messages. */
  readonly cluster: string;
  /** The heartbeat this node keeps with each node it places apartments on. */
  readonly heartbeat: Heartbeat;
  /** Ask node `node` on its control subject. */
  control(node: string, request: ControlRequest, timeoutMs: number): Promise<ControlOutcome>;
  /** Session `id` with node `node`, publishing to `subject`: frames from that node in that session reach it. */
  session(node: string, subject: string, id: string): NatsPeer;
  /** This node's inbox subject, where every session's frames to it arrive. */
  readonly inbox: string;
  /** The subject of node `node`'s inbox in epoch `epoch`. */
  inboxOf(node: string, epoch: string): string;
  /**
   * Where this node's frames to node `node` in epoch `epoch` go: that node's inbox, then this
   * node's name, so the receiver drops frames whose sender is not the subject's, and a server's
   * per-node permissions can make sure nobody publishes under another node's name.
   */
  inboxFor(node: string, epoch: string): string;
  /** Forget a session that is over: its node's frames are dropped from now on. */
  endSession(peer: NatsPeer): void;
  /**
   * What the parts of messages from node `node` draw on: this node's allowance, and that node's
   * share of it, which all sessions with it count against (the node pair's and every apartment's,
   * on whichever thread). Asked while a session with `node` is open.
   */
  reassemblyFor(node: string): ReassemblyBudget;
}
