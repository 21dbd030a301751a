// The `node` option of Runtime.start(): which cluster this process joins, under which name, through
// which NATS servers, and how fast it notices that another node is gone. Checked before anything
// connects.
import { HEARTBEAT_KEYS, type Heartbeat } from '../../apartments/hosts/heartbeat-pipe.js';
import { checkOptionKeys, optionKeys } from '../../marshal/option-keys.js';
import { InvalidArgumentError, shownValue } from '../../marshal/errors.js';
import type { NatsAuth } from '../../marshal/transports/nats-client.js';
import { natsAuthProblem } from '../../marshal/transports/nats-connect.js';

/** Options of Runtime.start({ node }). */
export interface NodeOptions {
  /** This node's name in the cluster: letters, digits, '_' and '-' (at most 64). */
  name: string;
  /** The NATS server(s) to connect to, e.g. 'nats://127.0.0.1:4222'; several for a cluster of servers. */
  nats: string | readonly string[];
  /** The cluster's name, the first token of every subject and the directory bucket's name (default 'apartments'). */
  cluster?: string;
  /** Pings between two nodes, and how many may go unanswered before a node counts as gone (default 1 s × 10). */
  heartbeat?: { periodMs?: number; misses?: number };
  /** How long a claim in the directory lives without renewal (ms; default 15 000; renewed every third of it). */
  leaseMs?: number;
  /** Credentials for servers that require them: the account's `{ user, pass }`, or `{ token }`. */
  auth?: NatsAuth;
  /**
   * Credentials the threads of the apartments this node runs for other nodes log in with (default:
   * `auth`). Those threads run code the other nodes name, which can read what its thread holds
   * (a heap snapshot shows it): give them a user that may only carry apartment sessions
   * (docs/cluster.md), not the node's own.
   */
  threadAuth?: NatsAuth;
  /**
   * The subject where the server's client-disconnect advisories for this account arrive (an import
   * of `$SYS.ACCOUNT.<account>.DISCONNECT`): a node whose connection the server reports closed is
   * asked at once whether it still listens, instead of at its next heartbeat.
   */
  disconnects?: string;
}
/** The keys Runtime.start({ node }) takes; any other is refused. */
const NODE_OPTION_KEYS = optionKeys<NodeOptions>({ name: true, nats: true, cluster: true, heartbeat: true, leaseMs: true, auth: true, threadAuth: true, disconnects: true });

/** The options with their defaults, checked. */
export interface ResolvedNodeOptions {
  readonly name: string;
  readonly servers: string[];
  readonly cluster: string;
  readonly heartbeat: Heartbeat;
  readonly leaseMs: number;
  readonly auth: NatsAuth | undefined;
  readonly threadAuth: NatsAuth | undefined;
  readonly disconnects: string | undefined;
}

/** Names that are one token of a NATS subject and a key-value bucket name. */
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
/** A subject to subscribe to: tokens of letters, digits and `$_-`, no wildcards. */
const SUBJECT = /^[A-Za-z0-9$_-]{1,64}(\.[A-Za-z0-9$_-]{1,64}){0,15}$/;
export const DEFAULT_NODE_HEARTBEAT: Heartbeat = { periodMs: 1_000, misses: 10 };
/** The longest heartbeat period and the most misses a node may set, or ask of another node. */
export const MAX_HEARTBEAT_PERIOD_MS = 3_600_000;
export const MAX_HEARTBEAT_MISSES = 1_000;

/** Whether `name` can name a node. */
export function isNodeName(name: unknown): name is string {
  return typeof name === 'string' && TOKEN.test(name);
}

export function checkNodeOptions(options: NodeOptions): ResolvedNodeOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('[node] node must be { name, nats }', { parameter: 'node' });
  checkOptionKeys(options, NODE_OPTION_KEYS, 'Runtime.start({ node })', 'node');
  if (typeof options.heartbeat === 'object' && options.heartbeat !== null) checkOptionKeys(options.heartbeat, HEARTBEAT_KEYS, 'Runtime.start({ node: { heartbeat } })', 'node.heartbeat');
  if (!isNodeName(options.name)) {
    throw new InvalidArgumentError(`[node-name] node.name must be letters, digits, '_' and '-' (at most 64); got ${typeof options.name === 'string' ? `'${options.name}'` : typeof options.name}`, { parameter: 'node.name' });
  }
  const cluster = options.cluster ?? 'apartments';
  if (typeof cluster !== 'string' || !TOKEN.test(cluster)) throw new InvalidArgumentError(`[node-cluster] node.cluster must be letters, digits, '_' and '-' (at most 64); got '${String(cluster)}'`, { parameter: 'node.cluster' });
  const servers = typeof options.nats === 'string' ? [options.nats] : Array.isArray(options.nats) ? [...options.nats] : [];
  if (servers.length === 0 || servers.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new InvalidArgumentError("[node-nats] node.nats must name a NATS server ('nats://127.0.0.1:4222') or a list of them", { parameter: 'node.nats' });
  }
  const periodMs = options.heartbeat?.periodMs ?? DEFAULT_NODE_HEARTBEAT.periodMs;
  const misses = options.heartbeat?.misses ?? DEFAULT_NODE_HEARTBEAT.misses;
  if (!(Number.isInteger(periodMs) && periodMs >= 10 && periodMs <= MAX_HEARTBEAT_PERIOD_MS)) {
    throw new InvalidArgumentError(`[heartbeat] node.heartbeat.periodMs must be a whole number of milliseconds from 10 to 3 600 000; got ${shownValue(periodMs)}`, { parameter: 'node.heartbeat' });
  }
  if (!(Number.isInteger(misses) && misses >= 1 && misses <= MAX_HEARTBEAT_MISSES)) {
    throw new InvalidArgumentError(`[heartbeat] node.heartbeat.misses must be a whole number from 1 to 1000; got ${shownValue(misses)}`, { parameter: 'node.heartbeat' });
  }
  const leaseMs = options.leaseMs ?? 15_000;
  if (!(Number.isInteger(leaseMs) && leaseMs >= 1_000 && leaseMs <= 86_400_000)) {
    throw new InvalidArgumentError(`[node-lease] node.leaseMs must be a whole number of milliseconds from 1 000 to 86 400 000; got ${shownValue(leaseMs)}`, { parameter: 'node.leaseMs' });
  }
  const authProblem = options.auth === undefined ? undefined : natsAuthProblem(options.auth);
  if (authProblem) throw new InvalidArgumentError(`[node-auth] node.auth ${authProblem}`, { parameter: 'node.auth' });
  const threadAuthProblem = options.threadAuth === undefined ? undefined : natsAuthProblem(options.threadAuth);
  if (threadAuthProblem) throw new InvalidArgumentError(`[node-auth] node.threadAuth ${threadAuthProblem}`, { parameter: 'node.threadAuth' });
  if (options.disconnects !== undefined && (typeof options.disconnects !== 'string' || !SUBJECT.test(options.disconnects))) {
    throw new InvalidArgumentError(`[node-disconnects] node.disconnects must be a NATS subject without wildcards ('apartments.disconnects'); got ${typeof options.disconnects === 'string' ? `'${options.disconnects.slice(0, 80)}'` : typeof options.disconnects}`, { parameter: 'node.disconnects' });
  }
  // A copy (checked to hold only its two or one fields): the caller changing its object later does not change what this node's threads use.
  const auth = options.auth === undefined ? undefined : { ...options.auth };
  const threadAuth = options.threadAuth === undefined ? undefined : { ...options.threadAuth };
  return { name: options.name, servers, cluster, heartbeat: { periodMs, misses }, leaseMs, auth, threadAuth, disconnects: options.disconnects };
}
