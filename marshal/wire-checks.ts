// Shape checks for incoming message fields, shared by the channel's switch: ids, reference lists
// and the call messages. Pure functions; they only say whether a field has the shape the protocol
// names (docs/protocol.md).
import { Op, type CallMessage, type PipelineCallMessage, type WireRefs } from './protocol.js';

/** A non-negative integer id (call ids, object ids, apartment ids, loans, counts). */
export const isId = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;

/** A refs field: 0, or a list of [path, apartment, oid, kind, loan]. */
export function isRefs(x: unknown): x is WireRefs {
  if (x === 0) return true;
  if (!Array.isArray(x)) return false;
  for (const r of x) {
    if (!Array.isArray(r) || !Array.isArray(r[0]) || !isId(r[1]) || !isId(r[2]) || (r[3] !== 0 && r[3] !== 1 && r[3] !== 2) || !isId(r[4])) return false;
    for (const step of r[0]) if (typeof step !== 'string' && typeof step !== 'number') return false;
  }
  return true;
}

/** [op, callId, oid, method, args[], refs, causality] */
export function isCall(m: CallMessage): boolean {
  return isId(m[1]) && isId(m[2]) && (typeof m[3] === 'string' || isId(m[3])) && Array.isArray(m[4]) && isRefs(m[5]) && typeof m[6] === 'number';
}

/** A call's fields, plus a base that names an earlier call of the sender (and then no object). */
export function isPipelineCall(m: PipelineCallMessage): boolean {
  return isId(m[3]) && m[3] < m[1] && (m[3] === 0 || m[2] === 0) && isCall([Op.Call, m[1], m[2], m[4], m[5], m[6], m[7]]);
}
