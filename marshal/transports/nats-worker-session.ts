// The session an apartment on a node holds with its host from its own thread: a NATS connection of
// its own, subscribed to the apartment's subject and publishing to the host's inbox, so its calls
// never pass through the node's main thread. The first 'nats' end the thread attaches (its link to
// the host, in its boot record) names the session; later ones (links the host relays to other
// apartments) ride on it under their own link numbers. Until the connection is up, links wait (their
// sends queue); once it is, the thread says hello and the host opens its ends. The session keeps
// its frame counts where the node's main thread reads them for the heartbeat. One per thread.
import { IpcTag, IpcTransport, keepEarlyMessages } from './ipc-transport.js';
import type { NatsAuth, NatsClient } from './nats-client.js';
import { connectNats, natsAuthProblem, publishOrDrop, subscribeGuarded } from './nats-connect.js';
import { decodeFrame, NatsPeer } from './nats-peer.js';
import { watchParts } from './parts-watch.js';
import { ReassemblyBudget } from './reassembly-budget.js';

/** What the boot record's 'nats' end says of the session. */
export interface DirectSessionEnd {
  /** The session's id: every frame of it carries this. */
  readonly id: string;
  /** The host node: frames on the subject count only when they come from it. */
  readonly host: string;
  /** This node's name: the frames this thread sends carry it. */
  readonly node: string;
  /** The subject this thread listens on. */
  readonly subject: string;
  /** The host's inbox. */
  readonly reply: string;
  /** The NATS servers this node uses, in its order of preference. */
  readonly servers: readonly string[];
  /** This node's credentials, when its servers require them (the node's own: they never leave its process). */
  readonly auth?: NatsAuth | undefined;
  /**
   * [frames sent, frames received, when this thread's event loop last ran (ms since the epoch)] as
   * 64-bit numbers, read by the node's main thread: frames not received yet are lost only if the
   * loop ran since they were due; a thread busy in a synchronous call reads nothing meanwhile.
   * Then, at HELD_OFFSET, the bytes of parts this thread holds, which the main thread gives back
   * to the node's allowance when the thread ends; at END_REASON_OFFSET, why the session ended
   * here, if it did (writeEndReason), which the main thread reports to the host with the thread's end.
   */
  readonly counters: SharedArrayBuffer;
  /** How often the thread marks that its loop ran, ms: the host's heartbeat period (or more often, see partsMs). */
  readonly tickMs: number;
  /** The node's allowance for unfinished parted messages, shared by all its sessions (reassembly-budget.ts). */
  readonly reassembly: SharedArrayBuffer;
  /** The count of what the host's sessions with the node hold of that allowance: its share, shared with the node's main thread and the host's other apartments. */
  readonly reassemblyShare: SharedArrayBuffer;
  /** How long a parted message from the host may go without a part, ms: the host's whole heartbeat, at most MAX_PARTS_MS (parts-watch.ts). */
  readonly partsMs: number;
}

/** Where in the counters the parts' bytes held are. */
export const HELD_OFFSET = 24;
/** Where in the counters the reason the session ended is: its length in bytes (an Int32), then its UTF-8. */
export const END_REASON_OFFSET = 32;
/** The most bytes of a reason kept. */
const END_REASON_BYTES = 512;
/** Bytes of a session's counters: three 64-bit counts, the parts' bytes its thread holds, and the reason it ended. */
export const SESSION_COUNTERS_BYTES = END_REASON_OFFSET + 4 + END_REASON_BYTES;

/**
 * Keep why the session ended (a gap, parts past an allowance), so the host learns it with the
 * apartment's end rather than from this node's log alone. The first reason stays.
 */
function writeEndReason(counters: SharedArrayBuffer, reason: string): void {
  const length = new Int32Array(counters, END_REASON_OFFSET, 1);
  if (Atomics.load(length, 0) !== 0) return;
  // Shared memory is not written by encodeInto: the bytes go through a buffer of this thread's.
  const bytes = new Uint8Array(END_REASON_BYTES);
  const { written } = new TextEncoder().encodeInto(reason, bytes);
  new Uint8Array(counters, END_REASON_OFFSET + 4, END_REASON_BYTES).set(bytes.subarray(0, written));
  Atomics.store(length, 0, written);
}

/**
 * Why the session in `counters` ended on the apartment's thread, if it said: one line of at most
 * END_REASON_BYTES. The thread runs another node's code, so the text is read as untrusted.
 */
export function readEndReason(counters: SharedArrayBuffer): string | undefined {
  const length = Atomics.load(new Int32Array(counters, END_REASON_OFFSET, 1), 0);
  if (!(length > 0 && length <= END_REASON_BYTES)) return undefined;
  const bytes = new Uint8Array(length);
  bytes.set(new Uint8Array(counters, END_REASON_OFFSET + 4, length));
  return new TextDecoder().decode(bytes).replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/** Why `value` is not a usable session, or undefined. */
export function checkSessionEnd(value: unknown): string | undefined {
  const s = value as Partial<DirectSessionEnd> | null;
  if (typeof s !== 'object' || s === null) return 'its session is not an object';
  for (const key of ['id', 'host', 'node', 'subject', 'reply'] as const) {
    if (typeof s[key] !== 'string' || s[key].length === 0 || s[key].length > 512) return `its session's ${key} is not a string`;
  }
  if (!Array.isArray(s.servers) || s.servers.length === 0 || s.servers.length > 32 || !s.servers.every((u) => typeof u === 'string')) return "its session's servers are not a list of URLs";
  if (!(s.counters instanceof SharedArrayBuffer) || s.counters.byteLength < SESSION_COUNTERS_BYTES) return "its session's counters are missing";
  if (!(typeof s.tickMs === 'number' && s.tickMs >= 10 && s.tickMs <= 3_600_000)) return "its session's tick period is out of range";
  if (!(s.reassembly instanceof SharedArrayBuffer) || s.reassembly.byteLength < 4) return "its session's allowance for parts is missing";
  if (!(s.reassemblyShare instanceof SharedArrayBuffer) || s.reassemblyShare.byteLength < 4) return "its session's share of the allowance for parts is missing";
  if (!(typeof s.partsMs === 'number' && s.partsMs >= 10 && Number.isFinite(s.partsMs))) return "its session's time for parts is out of range";
  if (s.auth !== undefined && natsAuthProblem(s.auth) !== undefined) return "its session's credentials are malformed";
  return undefined;
}

/** This thread's session, once its first end named it. */
let current: { peer: NatsPeer | undefined; waiting: IpcTransport[]; over: boolean } | undefined;

/** Whether this thread holds a session that later links can ride on. */
export function hasDirectSession(): boolean {
  return current !== undefined && !current.over;
}

/** The transport of link `link` on this thread's session; `session` opens the session (first end only). */
export function attachDirect(link: number, session: DirectSessionEnd | undefined): IpcTransport {
  if (session) {
    if (current) throw new Error('[nats-session] this thread already holds its session with its host');
    current = { peer: undefined, waiting: [], over: false };
    void connectSession(current, session);
  }
  const state = current;
  if (!state || state.over) throw new Error('[nats-session] this thread holds no session with its host');
  if (state.peer) return new IpcTransport(link, state.peer);
  const transport = new IpcTransport(link);
  state.waiting.push(transport);
  return transport;
}

async function connectSession(state: NonNullable<typeof current>, end: DirectSessionEnd): Promise<void> {
  let nc: NatsClient;
  try {
    nc = await connectNats(end.servers, `apartments ${end.subject}`, end.auth);
  } catch (err) {
    process.stderr.write(`[nats-session] the apartment's thread could not reach NATS at ${end.servers.join(', ')}: ${(err as Error)?.message ?? String(err)}\n`);
    state.over = true;
    for (const t of state.waiting.splice(0)) t.close();
    return;
  }
  const peer = new NatsPeer({
    name: end.node,
    publish: (bytes) => publishOrDrop(nc, end.reply, bytes),
    // Read at each send: a reconnect may land on a server that takes less.
    get maxPayload() {
      return nc.info?.max_payload ?? 1_048_576;
    },
    counters: new BigInt64Array(end.counters, 0, 2),
    reassembly: new ReassemblyBudget(end.reassembly, undefined, new Int32Array(end.counters, HELD_OFFSET, 1), end.reassemblyShare),
  }, end.host, end.id);
  // The loop's mark, at each look at the parts of a message from the host (parts-watch.ts): when a
  // turn of the loop began, stored once that turn's poll phase, which reads what arrived by then, is over.
  const ranAt = new BigInt64Array(end.counters, 16, 1);
  const stopWatching = watchParts(peer, end.tickMs, end.partsMs, (began) => Atomics.store(ranAt, 0, BigInt(began)));
  // Listening before subscribing: a frame that ends the session at once (a gap) finds its listeners.
  peer.on('gap', (description) => {
    writeEndReason(end.counters, description);
    process.stderr.write(`${description}\n`);
  });
  peer.on('disconnect', () => {
    state.over = true;
    stopWatching();
    void nc.close().catch(() => undefined);
  });
  // The host is the apartment's owner: a relayed link's first batches may come before its Connect is handled.
  keepEarlyMessages(peer);
  subscribeGuarded(nc, end.subject, (msg) => {
    const frame = decodeFrame(msg.data);
    // Only the host's frames of this session: anything else on the subject is dropped.
    if (typeof frame !== 'string' && frame.from === end.host && frame.session === end.id) peer.receive(frame);
  }, (err) => process.stderr.write(`[nats-session] the apartment's thread failed to handle a frame from its host: ${(err as Error)?.stack ?? String(err)}\n`));
  await nc.flush().catch(() => undefined);
  state.peer = peer;
  // Listening now: the host may open its ends and send. The hello goes first, so the host's ends are
  // open before the batches the links queued meanwhile reach it.
  peer.send([IpcTag.Hello, 0, null]);
  for (const t of state.waiting.splice(0)) t.open(peer);
}
