// Checks on the fields of incoming messages, which come from a peer that may be hostile: ids,
// grants and reference lists, and the bounds on how much one batch or message may hold.
import { isWireError } from './error-codec.js';
import { MAX_CARRIED_CONTEXT, Op, type WireRefs } from './protocol.js';

/**
 * Bounds on what a peer may send (it may be hostile): messages in one batch (a channel sends at
 * most 32, or one per message when a batch failed to clone), references in one message (a result
 * may honestly hold tens of thousands; each costs the receiver a proxy, so the cap is generous but
 * finite) and steps in one reference's path. More is not a bigger load but a broken or hostile peer.
 */
export const MAX_BATCH_MESSAGES = 1024;
export const MAX_REFS = 1_000_000;
export const MAX_PATH = 256;
/** A non-negative integer: call ids, object ids, counts. */
export const isId = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;

/** A grant is 0 (none) or a short string (the exporter's are 32 hex digits: marshal/random-ids.ts). */
export function isGrant(x: unknown): x is string | 0 {
  return x === 0 || (typeof x === 'string' && x.length <= 64);
}

/** A reference list: 0, or at most MAX_REFS references whose paths hold at most MAX_PATH steps. */
export function isRefs(x: unknown): x is WireRefs {
  if (x === 0) return true;
  if (!Array.isArray(x) || x.length > MAX_REFS) return false;
  for (const r of x) {
    if (!Array.isArray(r) || !Array.isArray(r[0]) || r[0].length > MAX_PATH || !isId(r[1]) || !isId(r[2]) || (r[3] !== 0 && r[3] !== 1 && r[3] !== 2) || !isId(r[4]) || !isGrant(r[5])) return false;
    for (const step of r[0]) if (typeof step !== 'string' && !isId(step)) return false;
  }
  return true;
}

const KNOWN_OPS = new Set<number>(Object.values(Op));

/** A call's carried context: absent, or a string of at most MAX_CARRIED_CONTEXT characters. */
const isCarried = (x: unknown): boolean => x === undefined || (typeof x === 'string' && x.length <= MAX_CARRIED_CONTEXT);

/**
 * Why `raw` is not a well-formed message, or undefined when it is one (its fields have the types
 * and ranges the protocol gives them; a Ready of another version is well-formed, and refused later).
 */
export function messageProblem(raw: unknown): string | undefined {
  if (!Array.isArray(raw) || !KNOWN_OPS.has(raw[0])) return 'unknown opcode';
  const m = raw as unknown[];
  switch (m[0]) {
    case Op.Call:
      return isId(m[1]) && isId(m[2]) && (typeof m[3] === 'string' || isId(m[3])) && Array.isArray(m[4]) && isRefs(m[5]) && typeof m[6] === 'number' && isCarried(m[7])
        ? undefined : `Call needs [op, callId, oid, method, args[], refs, causality, context?] (context a string of at most ${MAX_CARRIED_CONTEXT} characters)`;
    case Op.PipelineCall:
      return isId(m[1]) && isId(m[2]) && isId(m[3]) && m[3] < m[1] && (m[3] === 0 || m[2] === 0) && (typeof m[4] === 'string' || isId(m[4])) && Array.isArray(m[5]) && isRefs(m[6]) && typeof m[7] === 'number' && isCarried(m[8])
        ? undefined : 'PipelineCall needs [op, callId, oid, base<callId, method, args[], refs, causality, context?], oid 0 when base is set';
    case Op.ReleaseAnswer:
      return isId(m[1]) ? undefined : 'ReleaseAnswer needs [op, callId]';
    case Op.Cancel:
      return isId(m[1]) ? undefined : 'Cancel needs [op, callId]';
    case Op.Notify:
      return typeof m[1] === 'string' && Array.isArray(m[2]) && typeof m[3] === 'number' ? undefined : 'Notify needs [op, method, args[], causality]';
    case Op.AddRef:
      return isId(m[1]) && isId(m[2]) && isId(m[3]) && m[3] > 0 && isGrant(m[4]) ? undefined : 'AddRef needs [op, callId, oid, count>0, grant]';
    case Op.Result:
      return isId(m[1]) && isRefs(m[3]) ? undefined : 'Result needs [op, callId, value, refs]';
    case Op.Error:
      return isId(m[1]) && isWireError(m[2]) ? undefined : 'Error needs [op, callId, error]';
    case Op.Release:
      return isId(m[1]) && isId(m[2]) && m[2] > 0 ? undefined : 'Release needs [op, oid, count>0]';
    case Op.LoanReturn:
      return isId(m[1]) ? undefined : 'LoanReturn needs [op, loan]';
    case Op.Ready:
      return isId(m[2]) ? undefined : 'Ready needs [op, version, apartment]';
    case Op.Connect:
      return isId(m[1]) && typeof m[2] === 'string' && m[3] !== null && m[3] !== undefined ? undefined : 'Connect needs [op, peer, kind, end]';
    case Op.PeerGone:
      return isId(m[1]) && isWireError(m[2]) ? undefined : 'PeerGone needs [op, peer, reason]';
    default:
      return 'unknown opcode';
  }
}
