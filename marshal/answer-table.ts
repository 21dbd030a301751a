// The callee side of promise pipelining. A PipelineCall's answer is kept here, per channel, until
// the caller sends ReleaseAnswer; calls that target a kept answer wait for it and then run as
// ordinary calls on the object it returned (so admission, identity and reference counts are those
// of a call made once the answer had arrived), in arrival order. A failed answer fails the calls
// that target it with its error. Owner apartment only.
import { CallCanceledError, CallRejectedError, NoInterfaceError, ProtocolError, shownValue } from './errors.js';
import type { Channel } from './channel.js';
import { Op, type CallMessage, type PipelineCallMessage, type WireRefs } from './protocol.js';
import { IdTable } from './id-table.js';

/**
 * Answers a peer may keep at once on one channel. A peer that never releases its answers is refused
 * beyond this, rather than growing the callee's memory without bound.
 */
export const MAX_KEPT_ANSWERS = 4096;

/** What the answer table needs from its endpoint. */
export interface AnswerHost {
  /** Run `msg` as an ordinary incoming call (admission, stub, reply). */
  dispatch(channel: Channel, msg: CallMessage): void;
  /** The id this apartment exports `value` under, if it is exported (a by-reference answer). */
  exportedOid(value: unknown): number | undefined;
  /** Give back the references a call that will not run carried. */
  discardIncoming(channel: Channel, refs: WireRefs): void;
  readonly self: number;
}

interface Answer {
  settled: boolean;
  ok: boolean;
  value: unknown;
  /** Calls that arrived before the answer, in arrival order (made when the first one does). */
  waiting: PipelineCallMessage[] | undefined;
  /** ReleaseAnswer arrived before the answer did: forget it once it has settled. */
  released: boolean;
}

/** Kept answers of pipelined calls, per channel. */
export class AnswerTable {
  /**
   * A channel's map stays while the channel does, even when empty: a caller that pipelines pair
   * after pair empties it after every pair.
   */
  private readonly byChannel = new Map<Channel, IdTable<Answer>>();
  private kept = 0;

  constructor(private readonly host: AnswerHost) {}

  /** Whether any answer is kept (the hot path of every reply asks this first). */
  get empty(): boolean {
    return this.kept === 0;
  }

  /** A PipelineCall arrived: keep its answer, and run it now or once its base has answered. */
  receive(channel: Channel, msg: PipelineCallMessage): void {
    const [, callId, oid, base] = msg;
    let answers = this.byChannel.get(channel);
    if (!answers) this.byChannel.set(channel, (answers = new IdTable()));
    if (answers.size >= MAX_KEPT_ANSWERS) {
      this.refuse(channel, msg, new CallRejectedError(`[pipeline-limit] ${MAX_KEPT_ANSWERS} pipelined answers are already kept for this caller; await some results before pipelining more`));
      return;
    }
    answers.set(callId, { settled: false, ok: false, value: undefined, waiting: undefined, released: false });
    this.kept++;
    if (base === 0) {
      this.host.dispatch(channel, toCall(msg, oid));
      return;
    }
    const target = answers.get(base);
    if (!target) {
      this.refuse(channel, msg, new ProtocolError(`[pipeline] call ${callId} targets the answer of call ${base}, which this apartment does not keep (never pipelined, or already released)`));
      return;
    }
    if (target.settled) this.run(channel, msg, base, target);
    else (target.waiting ??= []).push(msg);
  }

  /** This side answered call `callId` (a result or an error); calls waiting for it run now. */
  settle(channel: Channel, callId: number, ok: boolean, value: unknown): void {
    const answers = this.byChannel.get(channel);
    const answer = answers?.get(callId);
    if (!answer || answer.settled) return;
    answer.settled = true;
    answer.ok = ok;
    answer.value = value;
    const waiting = answer.waiting;
    answer.waiting = undefined;
    if (waiting) for (const msg of waiting) this.run(channel, msg, callId, answer);
    if (answer.released) this.forget(answers!, callId);
  }

  /** The caller will target answer `callId` no more. */
  release(channel: Channel, callId: number): void {
    const answers = this.byChannel.get(channel);
    const answer = answers?.get(callId);
    if (!answer) return;
    if (answer.settled) this.forget(answers!, callId);
    else answer.released = true;
  }

  /** The caller cancelled call `callId`: if it is still waiting for its base, it never runs. */
  cancel(channel: Channel, callId: number): boolean {
    const answers = this.byChannel.get(channel);
    if (!answers) return false;
    for (const [, answer] of answers) {
      const i = answer.waiting?.findIndex((m) => m[1] === callId) ?? -1;
      if (i < 0) continue;
      const [msg] = answer.waiting!.splice(i, 1);
      this.refuse(channel, msg!, new CallCanceledError(`[canceled] pipelined call ${callId} was cancelled by its caller before its target answered`));
      return true;
    }
    return false;
  }

  /** The channel closed: its answers go with it. */
  drop(channel: Channel): void {
    this.kept -= this.byChannel.get(channel)?.size ?? 0;
    this.byChannel.delete(channel);
  }

  /** How many answers are kept (diagnostics and lifetime specs). */
  get size(): number {
    return this.kept;
  }

  private run(channel: Channel, msg: PipelineCallMessage, base: number, answer: Answer): void {
    if (!answer.ok) {
      this.refuse(channel, msg, answer.value);
      return;
    }
    const oid = this.host.exportedOid(answer.value);
    if (oid === undefined) {
      this.refuse(channel, msg, new NoInterfaceError(`[pipeline] call ${base} did not answer with a reference to an object of this apartment, so call '${shownValue(msg[4])}' cannot be pipelined on it; await the first result and call it directly`));
      return;
    }
    this.host.dispatch(channel, toCall(msg, oid));
  }

  /** Fail a pipelined call without running it (its own answer fails too, through the error reply). */
  private refuse(channel: Channel, msg: PipelineCallMessage, error: unknown): void {
    this.host.discardIncoming(channel, msg[6]);
    channel.replyError(msg[1], error, this.host.self);
  }

  private forget(answers: IdTable<Answer>, callId: number): void {
    if (answers.delete(callId)) this.kept--;
  }
}

function toCall(msg: PipelineCallMessage, oid: number): CallMessage {
  return msg[8] === undefined ? [Op.Call, msg[1], oid, msg[4], msg[5], msg[6], msg[7]] : [Op.Call, msg[1], oid, msg[4], msg[5], msg[6], msg[7], msg[8]];
}
