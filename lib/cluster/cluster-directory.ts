// The cluster's directory, in a JetStream key-value bucket named after the cluster: who holds a
// name (each node's own name, and the claims nodes make for named objects), claimed by create (the
// store refuses a second create of a key), renewed by revision (compare-and-swap: a renewal fails
// once another node took the key over) and expiring with the bucket's TTL, so a claim is a lease
// its node must keep renewing. A node that was killed leaves its keys behind until they expire; a
// node of that name may take its own key over sooner once nobody answers to the name. Main thread only.
import { AccessDeniedError, ApartmentError, DisconnectedError, InvalidArgumentError, ModuleLoadError } from '../../marshal/errors.js';
import type { KeyValueBucket, NatsClient } from '../../marshal/transports/nats-client.js';

/** Keys users may claim: the key-value store's characters, no dots at the ends, at most 128. */
const CLAIM_KEY = /^[A-Za-z0-9_=-](?:[A-Za-z0-9_=.-]{0,126}[A-Za-z0-9_=-])?$/;
/** Whether `key` may be claimed: the key-value store's characters, no dots at the ends, at most 128. */
export const isClaimKey = (key: unknown): key is string => typeof key === 'string' && CLAIM_KEY.test(key);
/** The largest value a claim carries (characters). */
const MAX_CLAIM_VALUE = 4_096;

/** The namespaces of claims: users' own (`rt.node.claim`), the names of objects published to other runtimes, and roles a node takes for the cluster. */
export type ClaimKind = 'claim' | 'ref' | 'role';

/** What a key holds: the node and epoch that hold it, and the claim's value. */
export interface Holding {
  readonly node: string;
  readonly epoch: string;
  readonly value: string;
}

export class ClusterDirectory {
  /** Keys this node holds, with the revision of its last write. */
  private readonly owned = new Map<string, { value: string; revision: number }>();
  private readonly timer: NodeJS.Timeout;
  /** True while a renewal waits for the server's answers. */
  private renewing = false;

  private constructor(
    private readonly kv: KeyValueBucket,
    leaseMs: number,
    private readonly node: string,
    private readonly epoch: string,
    private readonly warn: (message: string) => void,
    private readonly lost: ((key: string) => void) | undefined,
  ) {
    this.timer = setInterval(() => void this.renew(), Math.max(100, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  /** Open (or make) the cluster's bucket; the first node to make it sets its TTL. `lost` hears of each key this node held and lost. */
  static async open(nc: NatsClient, cluster: string, leaseMs: number, node: string, epoch: string, warn: (message: string) => void, lost?: (key: string) => void): Promise<ClusterDirectory> {
    const { Kvm } = await import('@nats-io/kv').catch((err: unknown) => {
      throw new ModuleLoadError(`[cluster-client] a node's directory needs the key-value client; install it with npm install @nats-io/kv (${(err as Error)?.message ?? String(err)})`, { cause: err });
    });
    // The client's own connection object: the shape above is this package's view of it.
    const kvm = new Kvm(nc as ConstructorParameters<typeof Kvm>[0]);
    let kv: KeyValueBucket;
    try {
      kv = await kvm.create(cluster, { ttl: leaseMs, history: 1 }).catch(async (err: unknown) => {
        // The bucket is there already, made by a node with other settings, or by a node that made
        // it at the same moment (the server may then answer that its subjects overlap an existing
        // stream): use it as it is. A stream of someone else's on those subjects fails to open.
        if (/already in use|exists|subjects overlap/i.test((err as Error)?.message ?? '')) return kvm.open(cluster);
        throw err;
      });
    } catch (err) {
      const message = (err as Error)?.message ?? '';
      // A node whose user may not read the answers to its requests: its inboxes are under its name.
      if (/permissions violation for subscription to "_INBOX/i.test(message)) {
        throw new AccessDeniedError(`[cluster-permissions] this node may not read the answers to its own requests (${message}); let its user subscribe to its inboxes, _INBOX.${cluster}.${node}.>, as docs/cluster.md shows`, { cause: err });
      }
      // A node whose user may not make streams (docs/cluster.md, each node in its own name).
      if (/permissions violation/i.test(message)) {
        throw new AccessDeniedError(`[cluster-jetstream] this node may not make the cluster's directory (${(err as Error).message}); make the key-value bucket '${cluster}' once with an account that may (history 1, TTL the lease: ${leaseMs} ms), as docs/cluster.md shows`, { cause: err });
      }
      throw new ApartmentError('E_UNEXPECTED', `[cluster-jetstream] the cluster's directory needs JetStream on the NATS server (${(err as Error)?.message ?? String(err)}); start nats-server with -js (JetStream enabled)`, { cause: err });
    }
    return new ClusterDirectory(kv, leaseMs, node, epoch, warn, lost);
  }

  /** Claim this node's name; a holder of it that no longer answers (`gone`, told what the key holds) is taken over. */
  async claimNode(gone: (holder: Holding | undefined) => Promise<boolean>): Promise<boolean> {
    const key = `node.${this.node}`;
    if (await this.create(key, '')) return true;
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT') return this.create(key, '');
    if (!(await gone(parseHolding(entry.string())))) return false;
    return this.takeOver(key, '', entry.revision);
  }

  /** Claim `key` in the namespace `kind` (users' claims, or the names of published objects). */
  async claim(key: string, value: string, kind: ClaimKind = 'claim'): Promise<boolean> {
    checkKey(key);
    if (typeof value !== 'string' || value.length > MAX_CLAIM_VALUE) {
      throw new InvalidArgumentError(`[claim-value] a claim's value must be a string of at most ${MAX_CLAIM_VALUE} characters`, { parameter: 'value' });
    }
    const full = `${kind}.${key}`;
    if (this.owned.has(full)) return this.owned.get(full)!.value === value;
    return this.create(full, value);
  }

  async lookup(key: string, kind: ClaimKind = 'claim'): Promise<Holding | undefined> {
    checkKey(key);
    const entry = await this.guard(() => this.kv.get(`${kind}.${key}`));
    if (!entry || entry.operation !== 'PUT') return undefined;
    return parseHolding(entry.string());
  }

  async release(key: string, kind: ClaimKind = 'claim'): Promise<void> {
    checkKey(key);
    await this.drop(`${kind}.${key}`);
  }

  /** Give up every key this node holds (it leaves the cluster). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.owned.keys()].map((key) => this.drop(key).catch(() => undefined)));
  }

  private async create(key: string, value: string): Promise<boolean> {
    const holding = JSON.stringify({ node: this.node, epoch: this.epoch, value } satisfies Holding);
    try {
      const revision = await this.kv.create(key, holding);
      this.owned.set(key, { value, revision });
      return true;
    } catch (err) {
      if (/wrong last sequence|key exists/i.test((err as Error)?.message ?? '')) return false;
      throw directoryError(err);
    }
  }

  private async takeOver(key: string, value: string, revision: number): Promise<boolean> {
    try {
      const next = await this.kv.update(key, JSON.stringify({ node: this.node, epoch: this.epoch, value } satisfies Holding), revision);
      this.owned.set(key, { value, revision: next });
      return true;
    } catch (err) {
      if (/wrong last sequence/i.test((err as Error)?.message ?? '')) return false;
      throw directoryError(err);
    }
  }

  private async drop(key: string): Promise<void> {
    const held = this.owned.get(key);
    if (!held) return;
    this.owned.delete(key);
    await this.guard(() => this.kv.delete(key, { previousSeq: held.revision })).catch(() => undefined);
  }

  /**
   * Rewrite every held key at the revision this node last wrote: a refusal means it is lost. One
   * renewal at a time: a second one started while the server is slow to answer the first would
   * write the same revision again, and the server's refusal of it would pass for a lost claim.
   */
  private async renew(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      await this.renewEach();
    } finally {
      this.renewing = false;
    }
  }

  private async renewEach(): Promise<void> {
    for (const [key, held] of [...this.owned]) {
      try {
        const revision = await this.kv.update(key, JSON.stringify({ node: this.node, epoch: this.epoch, value: held.value } satisfies Holding), held.revision);
        if (this.owned.get(key) === held) held.revision = revision;
      } catch (err) {
        const message = (err as Error)?.message ?? String(err);
        if (!/wrong last sequence/i.test(message)) continue; // The server is out of reach now: try again next time.
        this.owned.delete(key);
        // The node's own name is the node's to judge (it may take it back: cluster-node.ts).
        if (key !== `node.${this.node}`) this.warn(`[claim-lost] node '${this.node}' lost its claim on '${key}': it was deleted, or written by another node (after it expired, or through the directory, which any node may write)`);
        this.lost?.(key);
      }
    }
  }

  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw directoryError(err);
    }
  }
}

function checkKey(key: unknown): void {
  if (!isClaimKey(key)) {
    throw new InvalidArgumentError(`[claim-key] a claim's key must be letters, digits, '_', '=', '-' and inner dots (at most 128); got ${typeof key === 'string' ? `'${key.slice(0, 140)}'` : typeof key}`, { parameter: 'key' });
  }
}

function parseHolding(text: string): Holding | undefined {
  try {
    const value = JSON.parse(text) as Partial<Holding>;
    if (typeof value.node === 'string' && typeof value.epoch === 'string' && typeof value.value === 'string') return { node: value.node, epoch: value.epoch, value: value.value };
  } catch {
    // Written by something other than a node: nobody holds it as far as nodes are concerned.
  }
  return undefined;
}

function directoryError(err: unknown): Error {
  return new DisconnectedError(`[directory] the cluster's directory did not answer (${(err as Error)?.message ?? String(err)}); check the NATS server's JetStream`, { cause: err });
}
