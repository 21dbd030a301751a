// Objects one runtime publishes by name for the runtimes of other nodes: COM's running object
// table, cluster-wide. A name is claimed once in the cluster's directory (its 'ref' namespace, a
// lease renewed while the object stays published); a runtime that opens the name reaches the object
// over a link between the two runtimes' main apartments (runtime-gateway.ts), opened on their node
// pair's session, whose heartbeat decides when the other side is gone. Main thread only.
import type { LocalApartment } from '../../apartments/local-apartment.js';
import type { ClusterConnection } from '../../apartments/hosts/cluster-connection.js';
import { remoteNode } from '../../apartments/hosts/remote-node.js';
import { byRef } from '../../marshal/by-ref.js';
import { DisconnectedError, InUseError, InvalidArgumentError, shownValue } from '../../marshal/errors.js';
import { isProxy } from '../../marshal/proxy.js';
import { GATEWAY_LINK, IpcTransport } from '../../marshal/transports/ipc-transport.js';
import { isClaimKey, type ClusterDirectory } from './cluster-directory.js';
import { RuntimeGateway } from './runtime-gateway.js';
import { isNodeName } from './node-options.js';
import type { ClusterCookies, InterfaceTable } from '../interface-table.js';

/** What references between runtimes hold now, for specs and dashboards. */
export interface ReferenceStats {
  /** Objects this runtime publishes. */
  readonly published: number;
  /** Objects of this runtime that other runtimes hold references to. */
  readonly exports: number;
  /** Live proxies this runtime holds to other runtimes' objects. */
  readonly proxies: number;
  /** Links with other runtimes: opened by this one, and by others. */
  readonly links: number;
  /** The waits of linked runtimes this node holds as the cluster's deadlock coordinator (0 when it does not coordinate). */
  readonly coordinatedWaits: number;
}

export class RuntimeReferences {
  private readonly published = new Map<string, object>();
  /** Links this runtime opened to other nodes' runtimes, by node: one per node pair session. */
  private readonly opened = new Map<string, RuntimeGateway>();
  /** Links other runtimes opened to this one. */
  private readonly served = new Set<RuntimeGateway>();
  private closed = false;
  /** This runtime's global interface table, once shared with the cluster. */
  private table: InterfaceTable | undefined;

  constructor(
    private readonly connection: ClusterConnection,
    private readonly directory: () => ClusterDirectory,
    private readonly local: LocalApartment,
    private readonly warn: (message: string) => void,
  ) {}

  /** Publish `object` as `name` for every runtime of the cluster; InUseError when a runtime already does. */
  async publish(name: string, object: object): Promise<void> {
    checkName(name);
    if (object === null || (typeof object !== 'object' && typeof object !== 'function')) {
      throw new InvalidArgumentError(`[ref-object] publish needs the object or function to publish as '${name}'; got ${shownValue(object)}`, { parameter: 'object' });
    }
    this.assertOpen();
    if (this.published.has(name)) throw new InUseError(`[ref-taken] this runtime already publishes an object as '${name}'; unpublish it first, or pick another name`);
    // A published object travels by reference wherever it goes, as COM's registered objects do.
    if (!isProxy(object) && typeof object !== 'function') byRef(object);
    // Held before the claim is made, so a second publish of the name meanwhile is refused here.
    this.published.set(name, object);
    let claimed: boolean;
    try {
      claimed = await this.directory().claim(name, '', 'ref');
    } catch (err) {
      this.published.delete(name);
      throw err;
    }
    if (claimed) return;
    this.published.delete(name);
    const holder = await this.directory().lookup(name, 'ref').catch(() => undefined);
    throw new InUseError(`[ref-taken] ${holder ? `node '${holder.node}'` : 'another node'} publishes an object as '${name}' in cluster '${this.connection.cluster}'; pick another name, or unpublish it there`);
  }

  /** Stop publishing `name`: runtimes that opened it keep their references; new opens fail. False when this runtime did not publish it. */
  async unpublish(name: string): Promise<boolean> {
    checkName(name);
    if (!this.published.delete(name)) return false;
    await this.directory().release(name, 'ref');
    return true;
  }

  /** The object some runtime of the cluster publishes as `name`: a proxy (or the object itself, when this runtime publishes it). */
  async open(name: string): Promise<unknown> {
    checkName(name);
    this.assertOpen();
    const holding = await this.directory().lookup(name, 'ref');
    if (holding?.node === this.connection.name) return this.lookup(name);
    if (!holding) throw unknown(name, `no node of cluster '${this.connection.cluster}' publishes an object as '${name}'`);
    return this.gatewayTo(holding.node).open(name);
  }

  /** Serve the link node `node` opened to this runtime; returns what to call when that node is gone. */
  serve(node: string, near: IpcTransport): (why: string) => void {
    if (this.closed) {
      near.close();
      return () => undefined;
    }
    const serving = {
      open: (name: string) => this.lookup(name),
      cookie: (cookie: string) => this.table?.serve(cookie) ?? Promise.reject(noCookies()),
      revokeCookie: (cookie: string) => this.table?.revokeServed(cookie) ?? Promise.reject(noCookies()),
    };
    const gateway: RuntimeGateway = new RuntimeGateway(this.local, node, false, near, serving, this.warn, () => this.served.delete(gateway));
    this.served.add(gateway);
    return (why) => gateway.nodeGone(why);
  }

  /**
   * Share the global interface table `table` with the cluster: this runtime's cookies end in
   * `suffix` (its node and run) and are served to other runtimes over their links; a cookie naming
   * another node is opened through the link to that node's runtime.
   */
  shareCookies(table: InterfaceTable, suffix: string): ClusterCookies {
    this.table = table;
    const withLink = <T>(cookie: string, use: (gateway: RuntimeGateway) => Promise<T>): Promise<T> | undefined => {
      const node = nodeOfCookie(cookie);
      if (node === undefined || node === this.connection.name) return undefined;
      return Promise.resolve().then(() => {
        this.assertOpen();
        return use(this.gatewayTo(node));
      });
    };
    return {
      suffix,
      get: (cookie) => withLink(cookie, (gateway) => gateway.cookie(cookie) as Promise<object>),
      revoke: (cookie) => withLink(cookie, (gateway) => gateway.revokeCookie(cookie)),
    };
  }

  /** Whether this runtime holds a link to another runtime now (either way). */
  get linked(): boolean {
    return this.opened.size > 0 || this.served.size > 0;
  }

  stats(): Omit<ReferenceStats, 'coordinatedWaits'> {
    let exports = 0;
    let proxies = 0;
    const links = [...this.opened.values(), ...this.served];
    for (const gateway of links) {
      const counts = gateway.endpoint.stats();
      exports += counts.exports;
      proxies += counts.proxies;
    }
    return { published: this.published.size, exports, proxies, links: links.length };
  }

  /** The runtime closes: every link ends and nothing is published any more (its directory gives the names up). */
  close(): void {
    this.closed = true;
    this.published.clear();
    const reason = new DisconnectedError(`[runtime-closed] node '${this.connection.name}' closed its runtime; its references to and from other runtimes ended`, { code: 'CO_E_OBJNOTCONNECTED' });
    for (const gateway of [...this.opened.values(), ...this.served]) gateway.end(reason);
  }

  private lookup(name: string): object {
    const object = this.published.get(name);
    if (!object) throw unknown(name, `node '${this.connection.name}' publishes no object as '${name}' (any more)`);
    return object;
  }

  /** This runtime's link to node `node`'s runtime: the live one, or a new one on the node pair's session. */
  private gatewayTo(node: string): RuntimeGateway {
    const known = this.opened.get(node);
    if (known?.live) return known;
    const near = new IpcTransport(GATEWAY_LINK);
    const gateway: RuntimeGateway = new RuntimeGateway(this.local, node, true, near, undefined, this.warn, () => {
      if (this.opened.get(node) === gateway) this.opened.delete(node);
    });
    if (!remoteNode(this.connection, node).openGateway(near, (why) => gateway.nodeGone(why))) {
      // The node pair's session carried a link that ended while the session lives on (the other
      // side closed it, or faulted it): it opens again with the next session.
      const why = known?.endReason?.message ?? 'it ended';
      gateway.end(new DisconnectedError(`[ref-link] the link to the runtime of node '${node}' ended (${why}); it opens again once node '${node}' is counted gone and back`, { code: 'CO_E_OBJNOTCONNECTED' }));
      near.close();
      throw gateway.endReason;
    }
    this.opened.set(node, gateway);
    return gateway;
  }

  private assertOpen(): void {
    if (this.closed) throw new DisconnectedError('[runtime-closed] the runtime was closed; start a new one to publish or open objects', { code: 'CO_E_OBJNOTCONNECTED' });
  }
}

function checkName(name: unknown): asserts name is string {
  if (!isClaimKey(name)) {
    throw new InvalidArgumentError(`[ref-name] the name of a published object must be letters, digits, '_', '=', '-' and inner dots (at most 128); got ${typeof name === 'string' ? `'${name.slice(0, 140)}'` : shownValue(name)}`, { parameter: 'name' });
  }
}

/** The node a cookie of a node's global interface table names (`…@<node>.<epoch>`); undefined for any other cookie. */
function nodeOfCookie(cookie: string): string | undefined {
  const at = cookie.lastIndexOf('@');
  if (at < 0) return undefined;
  const node = cookie.slice(at + 1, cookie.indexOf('.', at));
  return isNodeName(node) ? node : undefined;
}

function noCookies(): DisconnectedError {
  return new DisconnectedError('[git] this runtime shares no global interface table with the cluster; register the object again', { code: 'CO_E_OBJNOTCONNECTED' });
}

function unknown(name: string, why: string): DisconnectedError {
  return new DisconnectedError(`[ref-unknown] ${why}; publish it first with rt.node.publish('${name}', object), or check the name`, { code: 'CO_E_OBJNOTCONNECTED' });
}
