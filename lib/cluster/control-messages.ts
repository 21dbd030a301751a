// The control requests nodes send each other on `<cluster>.<name>.ctl.<sender>` (hello, ping,
// probe) and their replies, as JSON, checked field by field here before anything reads them: what
// another node sends is hostile until it parses.
import type { ControlReply, ControlRequest } from '../../apartments/hosts/cluster-connection.js';
import { isNodeName, MAX_HEARTBEAT_MISSES, MAX_HEARTBEAT_PERIOD_MS } from './node-options.js';

/** A node's epoch as joinCluster() makes it: base-36 time and hex. */
export const EPOCH = /^[a-z0-9]{1,64}$/;
/** The largest control request or reply read, in bytes: a few fields of JSON and a count per apartment. */
const MAX_CONTROL_BYTES = 64 * 1024;
/** The most apartment sessions one heartbeat counts (a node runs at most 256 apartments for a host). */
const MAX_COUNTED_LINKS = 256;

/** JSON another node sent, read only when it is at most `maxBytes` long; undefined when it is longer or no JSON. */
export function readJson(bytes: Uint8Array, maxBytes: number): unknown {
  if (bytes.byteLength > maxBytes) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A control request from another node, checked field by field; undefined when it is not one. */
export function parseControl(bytes: Uint8Array): ControlRequest | undefined {
  const value = readJson(bytes, MAX_CONTROL_BYTES) as Record<string, unknown> | null | undefined;
  if (typeof value !== 'object' || value === null || typeof value.from !== 'string' || typeof value.epoch !== 'string') return undefined;
  if (!isNodeName(value.from) || !EPOCH.test(value.epoch)) return undefined;
  if (value.op === 'probe') return { op: value.op, from: value.from, epoch: value.epoch };
  if (typeof value.session !== 'string' || value.session.length > 96 || !value.session.startsWith(`${value.epoch}.`)) return undefined;
  if (value.op === 'ping') {
    const links = counts(value.links);
    return Number.isSafeInteger(value.sent) && (value.sent as number) >= 0 && links ? { op: value.op, from: value.from, epoch: value.epoch, session: value.session, sent: value.sent as number, links } : undefined;
  }
  // A heartbeat within the bounds a node may set its own to (node-options.ts): a hello with a period
  // of 10^300 ms would keep its session, and a 1 ms timer of Node's making, for good.
  if (value.op === 'hello' && Number.isInteger(value.periodMs) && Number.isInteger(value.misses) && (value.periodMs as number) <= MAX_HEARTBEAT_PERIOD_MS && (value.misses as number) <= MAX_HEARTBEAT_MISSES) {
    return { op: 'hello', from: value.from, epoch: value.epoch, session: value.session, periodMs: value.periodMs as number, misses: value.misses as number };
  }
  return undefined;
}

export function parseReply(bytes: Uint8Array): ControlReply | undefined {
  const value = readJson(bytes, MAX_CONTROL_BYTES) as Record<string, unknown> | null | undefined;
  if (typeof value !== 'object' || value === null || typeof value.epoch !== 'string' || typeof value.knows !== 'boolean') return undefined;
  // A node's epoch goes into the subjects of its sessions: one of 5000 characters made a control
  // line longer than the server reads, and it closed this node's connection with every other
  // node's frames in flight; one with a space made every frame fail to publish.
  if (!EPOCH.test(value.epoch)) return undefined;
  return {
    epoch: value.epoch,
    knows: value.knows,
    ...(typeof value.refusal === 'string' ? { refusal: value.refusal.slice(0, 500) } : {}),
    ...(Number.isSafeInteger(value.sent) && (value.sent as number) >= 0 ? { sent: value.sent as number } : {}),
    ...(counts(value.links) ? { links: counts(value.links)! } : {}),
  };
}

/** Frame counts by link number, as a heartbeat carries them; undefined when `value` is not that. */
function counts(value: unknown): Record<string, number> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_COUNTED_LINKS) return undefined;
  for (const [link, n] of entries) {
    if (!/^[1-9][0-9]{0,9}$/.test(link) || !Number.isSafeInteger(n) || (n as number) < 0) return undefined;
  }
  return Object.fromEntries(entries) as Record<string, number>;
}
