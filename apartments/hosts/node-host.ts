// Apartments that another node of the cluster runs for this one (docs/cluster.md): the apartment is
// this runtime's, with this runtime's id, classes and rules, but its thread is on the other node,
// reached over the node pair's NATS session (remote-node.ts). This host is one apartment's view of
// that node: its link, its start, its end. Main thread only.
import { claimNatsEnd, natsLink } from '../../marshal/transports/nats-link.js';
import type { ApartmentHost, ApartmentHostFactory, HostStart, RelayEnd } from '../apartment-host.js';
import type { ClusterConnection } from './cluster-connection.js';
import { ServedHost } from './served-host.js';
import { remoteNode, type RemoteNode } from './remote-node.js';

/** How long the other node may take to report an apartment's end before it is given up on. */
const END_GRACE_MS = 10_000;

/** A factory of hosts whose apartments run on node `node`. */
export function nodeHosts(connection: ClusterConnection, node: string): ApartmentHostFactory {
  return (start) => new NodeHost(connection, node, start);
}

/** One apartment on another node. */
class NodeHost extends ServedHost implements ApartmentHost {
  private remote: RemoteNode | undefined;
  private link: number | undefined;

  constructor(private readonly connection: ClusterConnection, private readonly node: string, private readonly starting: HostStart) {
    super();
  }

  get identity(): string {
    return this.remote ? this.remote.identity : `node '${this.node}'`;
  }

  start(): void {
    if (this.remote) return;
    const near = claimNatsEnd(this.starting.boot.link);
    if (!near) throw new Error(`[node-host] the apartment's link is not an unclaimed 'nats' link end; an apartment on another node needs transport 'nats'`);
    this.remote = remoteNode(this.connection, this.node);
    this.link = near.link;
    // Shared memory cannot reach another machine: the node makes the apartment's own script gate.
    const { scriptGate: _notShared, ...boot } = this.starting.boot;
    this.remote.join(this, { link: near.link, boot, resourceLimits: this.starting.resourceLimits, near });
  }

  /** A further link number on the apartment's own session, attached there by the apartment's thread. */
  relayEnd(): RelayEnd | undefined {
    if (!this.remote || this.link === undefined || this.done) return undefined;
    const link = natsLink.create();
    const near = claimNatsEnd(link.far)!;
    if (!this.remote.openLink(near, this.link)) {
      near.close();
      return undefined;
    }
    return { near, kind: natsLink.name, end: link.far, transfer: [] };
  }

  /** The cluster connection keeps this process alive while the runtime runs; nothing per apartment. */
  ref(): void {}

  unref(): void {}

  async terminate(): Promise<void> {
    const remote = this.remote;
    if (!remote || this.link === undefined || this.done) return this.exited;
    const link = this.link;
    remote.terminate(link);
    const timer = setTimeout(() => remote.abandon(link, `node '${this.node}' did not report the apartment's end within ${END_GRACE_MS} ms`), END_GRACE_MS);
    timer.unref();
    await this.exited;
    clearTimeout(timer);
  }
}
