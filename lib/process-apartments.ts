// Which host runs a new apartment: a worker thread of this process (the default), a process
// server when the options name one (`process: 'plugins'`): the first apartment naming it starts its
// child process, later ones run on threads of that process; or another node of the cluster when
// they name one (`node: 'b'`, docs/cluster.md). This module checks those options before anything
// starts and picks the host with its settings; the runtime facade passes the result to the launcher.
import type { ApartmentHostFactory } from '../apartments/apartment-host.js';
import type { ClusterConnection } from '../apartments/hosts/cluster-connection.js';
import { nodeHosts } from '../apartments/hosts/node-host.js';
import { processHosts, runningServerHeartbeat, type Heartbeat } from '../apartments/hosts/process-host.js';
import { checkFlag, checkOptionsObject } from '../marshal/call-options.js';
import { HEARTBEAT_KEYS } from '../apartments/hosts/heartbeat-pipe.js';
import { InvalidArgumentError, shownValue } from '../marshal/errors.js';
import { natsLink } from '../marshal/transports/nats-link.js';
import { isNodeName } from './cluster/node-options.js';
import { APARTMENT_OPTION_KEYS, type ApartmentOptions } from './runtime-options.js';

/** The child's composition root. */
const PROCESS_ENTRY = new URL('./process-main.js', import.meta.url);
/** The link kind of every process apartment. */
const PROCESS_TRANSPORT = 'ipc';
/**
 * A ping every second and 10 unanswered (10 s) before a process counts as hung or stopped. A thread
 * of the child that does nothing else answers, so a long synchronous call in its apartment is not
 * taken for a hang; the margin is for a machine so loaded that even that thread waits its turn.
 */
export const DEFAULT_HEARTBEAT: Heartbeat = { periodMs: 1_000, misses: 10 };
const PROCESS_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The host factory, the options to launch with, and where the apartment runs (for its label) when not on a thread here. */
export interface HostChoice {
  readonly host: ApartmentHostFactory;
  readonly options: ApartmentOptions;
  readonly place?: string;
}

/** The host factory and the options to launch the apartment `options` describes with. */
export function apartmentHost(options: ApartmentOptions, workers: ApartmentHostFactory, defaultTransport: string, cluster?: ClusterConnection): HostChoice {
  // The first to read the options: a number or null was taken for none, or failed with a TypeError.
  checkOptionsObject(options, 'createApartment()', "{ name: 'plugins' }", 'apartment-options', APARTMENT_OPTION_KEYS);
  checkFlag(options.trace, 'trace', 'trace');
  if (options.node !== undefined) return nodeHost(options, workers, cluster);
  const name = options.process;
  if (name === undefined) {
    if ((options.transport ?? defaultTransport) === natsLink.name) {
      throw new InvalidArgumentError(`[node-transport] transport '${natsLink.name}' links only apartments on other nodes; name the node with the node option, or pick another transport`, { parameter: 'transport' });
    }
    if ((options.transport ?? defaultTransport) === PROCESS_TRANSPORT) {
      throw new InvalidArgumentError(`[process-transport] transport '${PROCESS_TRANSPORT}' links only process apartments; name a process server with the process option, or pick another transport`, { parameter: 'transport' });
    }
    // A thread of this process has no heartbeat to set: its end is seen at once. It was ignored.
    if (options.heartbeat !== undefined) {
      throw new InvalidArgumentError('[thread-heartbeat] heartbeat sets how a process server is watched; this apartment is a thread of this process, whose end is seen at once — leave heartbeat out, or name a process server with the process option', { parameter: 'heartbeat' });
    }
    return { host: workers, options };
  }
  if (typeof name !== 'string' || !PROCESS_NAME.test(name)) {
    throw new InvalidArgumentError(`[process-name] process must name a process server in letters, digits, '.', '_' and '-' (at most 64); got ${typeof name === 'string' ? `'${name}'` : typeof name}`, { parameter: 'process' });
  }
  if (options.transport !== undefined && options.transport !== PROCESS_TRANSPORT) {
    throw new InvalidArgumentError(`[process-transport] a process apartment is linked over its IPC channel (transport '${PROCESS_TRANSPORT}'); leave transport out`, { parameter: 'transport' });
  }
  checkLimits(options.resourceLimits);
  const heartbeat = checkHeartbeat(options.heartbeat);
  // A later apartment joins the running server as it is: one heartbeat per process.
  const running = runningServerHeartbeat(name);
  if (running && options.heartbeat !== undefined && (running.periodMs !== heartbeat.periodMs || running.misses !== heartbeat.misses)) {
    throw new InvalidArgumentError(`[process-heartbeat] process server '${name}' already runs with a heartbeat of ${running.periodMs} ms × ${running.misses}; leave heartbeat out to join it, or name another process`, { parameter: 'heartbeat' });
  }
  return {
    host: processHosts(PROCESS_ENTRY, { name, heartbeat: running ?? heartbeat }),
    options: { ...options, transport: PROCESS_TRANSPORT },
    place: `in process '${name}'`,
  };
}

/** An apartment on another node of the cluster, or on this node's own threads when it names this node. */
function nodeHost(options: ApartmentOptions, workers: ApartmentHostFactory, cluster: ClusterConnection | undefined): HostChoice {
  const node = options.node;
  if (!isNodeName(node)) {
    throw new InvalidArgumentError(`[node-name] node must name a node of the cluster in letters, digits, '_' and '-' (at most 64); got ${typeof node === 'string' ? `'${node}'` : typeof node}`, { parameter: 'node' });
  }
  if (!cluster) {
    throw new InvalidArgumentError(`[node-none] this runtime is not a node of a cluster; start it with Runtime.start({ node: { name, nats } }) to place apartments on node '${node}'`, { parameter: 'node' });
  }
  if (options.process !== undefined) {
    throw new InvalidArgumentError('[node-process] an apartment runs on another node or in a process server of this one, not both; leave process or node out', { parameter: 'process' });
  }
  if (options.transport !== undefined && options.transport !== natsLink.name) {
    throw new InvalidArgumentError(`[node-transport] an apartment on another node is linked over the cluster (transport '${natsLink.name}'); leave transport out`, { parameter: 'transport' });
  }
  if (options.heartbeat !== undefined) {
    throw new InvalidArgumentError('[node-heartbeat] nodes keep one heartbeat per pair, set by Runtime.start({ node: { heartbeat } }); leave heartbeat out', { parameter: 'heartbeat' });
  }
  const { node: _node, ...rest } = options;
  // On the other node the apartment runs on a worker thread, so a worker's limits apply as they are.
  if (node === cluster.name) return { host: workers, options: rest };
  return { host: nodeHosts(cluster, node), options: { ...options, transport: natsLink.name }, place: `on node '${node}'` };
}

/** A process's memory is capped by its V8 heap limit only: the other worker limits mean nothing there. */
function checkLimits(limits: ApartmentOptions['resourceLimits']): void {
  if (limits === undefined) return;
  const other = Object.keys(limits).filter((k) => k !== 'maxOldGenerationSizeMb');
  if (other.length > 0) {
    throw new InvalidArgumentError(`[process-limits] a process apartment takes only resourceLimits.maxOldGenerationSizeMb (its heap cap); remove ${other.join(', ')}`, { parameter: 'resourceLimits' });
  }
  const mb = limits.maxOldGenerationSizeMb;
  if (mb !== undefined && !(Number.isInteger(mb) && mb >= 16)) {
    throw new InvalidArgumentError(`[process-limits] resourceLimits.maxOldGenerationSizeMb must be a whole number of MB ≥ 16; got ${shownValue(mb)}`, { parameter: 'resourceLimits' });
  }
}

function checkHeartbeat(heartbeat: ApartmentOptions['heartbeat']): Heartbeat {
  if (heartbeat === undefined) return DEFAULT_HEARTBEAT;
  checkOptionsObject(heartbeat, 'heartbeat', '{ periodMs: 1_000, misses: 10 }', 'heartbeat', HEARTBEAT_KEYS, 'heartbeat');
  const periodMs = heartbeat.periodMs ?? DEFAULT_HEARTBEAT.periodMs;
  const misses = heartbeat.misses ?? DEFAULT_HEARTBEAT.misses;
  if (!(typeof periodMs === 'number' && periodMs >= 10 && periodMs <= 3_600_000)) {
    throw new InvalidArgumentError(`[heartbeat] heartbeat.periodMs must be a number of milliseconds from 10 to 3 600 000; got ${shownValue(periodMs)}`, { parameter: 'heartbeat' });
  }
  if (!(Number.isInteger(misses) && misses >= 1 && misses <= 1_000)) {
    throw new InvalidArgumentError(`[heartbeat] heartbeat.misses must be a whole number from 1 to 1000; got ${shownValue(misses)}`, { parameter: 'heartbeat' });
  }
  return { periodMs, misses };
}
