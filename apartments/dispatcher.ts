// Runs the calls that arrive at an apartment: find the target, let its class's contract decide
// whether it may run at all (admit()), and the message filter and call admission when it may start,
// rebuild the arguments, invoke the member through the stub inside the call's context (so calls it
// makes carry its causality id), and answer with the result or the error. A Cancel drops a call that
// has not started and aborts the signal of one that has. Owner apartment only.
import { runInCall, type CallInfo } from './context.js';
import { admitRefusal } from './contract-admit.js';
import { CallRejectedError, DisconnectedError } from '../marshal/errors.js';
import type { Channel } from '../marshal/channel.js';
import type { CallDispatcher, Endpoint } from '../marshal/endpoint.js';
import { CONTROL_OID, type CallMessage, type NotifyMessage, type WireRefs } from '../marshal/protocol.js';
import { invokeMember, methodName } from '../marshal/stub.js';
import { activeTrace, TraceKind } from '../marshal/trace-hook.js';
import type { Admission, MessageFilter, QueuedTicket, Turn, Untracked } from './admission.js';
import type { LoadedClass } from './class-loader.js';
import { isInputSync } from './input-sync.js';

/** A call being served (or waiting its turn); the abort controller is made only if asked for. */
class ServedCall implements CallInfo {
  private controller: AbortController | undefined;
  private canceled = false;
  started = false;
  ticket: QueuedTicket | undefined;
  constructor(readonly callerApartment: number, readonly causality: number, readonly refs: WireRefs, readonly inputSync: boolean) {}

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.canceled) this.controller.abort();
    return this.controller.signal;
  }

  cancel(): void {
    this.canceled = true;
    this.controller?.abort();
  }
}

/** What the dispatcher needs from its apartment besides the endpoint. */
export interface DispatcherOptions {
  label: string;
  admission: Admission;
  filter(): MessageFilter | undefined;
  /** Report a problem with the call of chain `causality` (the log entry carries the caller's chain). */
  warn(message: string, causality?: number): void;
  /** The registered class an exported object was made from, if its contract has admit() (none: no contract checks). */
  classOf?(target: object): LoadedClass | undefined;
  /** How to name an apartment in a refusal. */
  labelOf?(apartment: number): string;
}

/** Dispatches incoming calls to the objects an apartment exports (and its control object). */
export class Dispatcher implements CallDispatcher {
  private readonly calls = new Map<Channel, Map<number, ServedCall>>();

  constructor(private readonly options: DispatcherOptions) {}

  dispatch(endpoint: Endpoint, channel: Channel, msg: CallMessage): void {
    // Indexed reads, not destructuring: this is the hot path of every call.
    const callId = msg[1];
    const oid = msg[2];
    const refs = msg[5];
    const control = oid === CONTROL_OID;
    const target = control ? endpoint.control : endpoint.exports.get(oid)?.object;
    if (target === undefined) {
      const trace = activeTrace;
      if (trace) trace.record(TraceKind.Refuse, msg[6], channel.peer, callId, 'CO_E_OBJNOTCONNECTED', oid);
      endpoint.discardIncoming(channel, refs);
      channel.replyError(callId, new DisconnectedError(`[object-gone] object ${oid} in ${this.options.label} no longer exists (it was released); obtain a new reference`, { code: 'CO_E_OBJNOTCONNECTED' }), endpoint.self);
      return;
    }
    if (!control && !this.contractAdmits(endpoint, channel, msg, target)) return;
    const filter = control ? undefined : this.options.filter();
    if (filter && !this.filterAccepts(filter, endpoint, channel, msg, target)) return;
    let decoded: unknown[] | Promise<unknown[]>;
    try {
      decoded = endpoint.decodeArgs(channel, msg[4], refs);
    } catch (err) {
      channel.replyError(callId, err, endpoint.self);
      return;
    }
    if (decoded instanceof Promise) {
      // An argument needs its class loaded here first (a free-threaded view): admit once it is.
      decoded.then((args) => this.admitCall(endpoint, channel, msg, target, control, args), (err: unknown) => channel.replyError(callId, err, endpoint.self));
      return;
    }
    this.admitCall(endpoint, channel, msg, target, control, decoded);
  }

  private admitCall(endpoint: Endpoint, channel: Channel, msg: CallMessage, target: object, control: boolean, args: unknown[]): void {
    const callId = msg[1];
    const method = msg[3];
    const refs = msg[5];
    const causality = msg[6];
    const name = methodName(target, method);
    const served = new ServedCall(channel.peer, causality, refs, !control && isInputSync(target, name));
    const admission = this.options.admission;
    const turn = admission.enter(target, name, causality, control);
    if (turn !== undefined) {
      this.invoke(endpoint, channel, callId, target, method, args, served, turn);
      return;
    }
    const calls = this.callsOf(channel);
    calls.set(callId, served);
    const trace = activeTrace;
    if (trace) trace.record(TraceKind.Queue, causality, channel.peer, callId, name, 0);
    served.ticket = admission.wait({
      target,
      method: name,
      causality,
      start: (held) => {
        served.started = true;
        calls.delete(callId);
        this.invoke(endpoint, channel, callId, target, method, args, served, held);
      },
      refuse: (error) => {
        calls.delete(callId);
        if (trace) trace.record(TraceKind.Refuse, causality, channel.peer, callId, (error as { code?: string }).code ?? 'refused', 0);
        endpoint.releaseArrivals(refs);
        channel.replyError(callId, error, endpoint.self);
      },
    });
  }

  /** Run a one-way notification on the control object; a failure is logged, never answered. */
  notify(endpoint: Endpoint, channel: Channel, msg: NotifyMessage): void {
    const causality = msg[3];
    const report = (err: unknown): void => this.options.warn(`[notify] notification '${msg[1]}' from ${this.options.labelOf?.(channel.peer) ?? `apartment ${channel.peer}`} failed in ${this.options.label}: ${(err as Error)?.message ?? String(err)}`, causality);
    try {
      const result = runInCall(new ServedCall(channel.peer, causality, 0, false), () => invokeMember(endpoint.control, msg[1], msg[2]));
      if (result instanceof Promise) result.catch(report);
    } catch (err) {
      report(err);
    }
  }

  cancel(endpoint: Endpoint, channel: Channel, callId: number): void {
    const served = this.calls.get(channel)?.get(callId);
    if (!served) return;
    if (!served.started && served.ticket) {
      // Queued and cancelled: it never starts, and what it carried is given back.
      served.ticket.cancel();
      this.calls.get(channel)!.delete(callId);
      endpoint.releaseArrivals(served.refs);
    } else {
      served.cancel();
    }
  }

  /** Forget the calls of a channel that closed. */
  forget(channel: Channel): void {
    this.calls.delete(channel);
  }

  /** Ask the contract of the target's class (if it has admit()); a refusal answers the call here. */
  private contractAdmits(endpoint: Endpoint, channel: Channel, msg: CallMessage, target: object): boolean {
    const loaded = this.options.classOf?.(target);
    if (loaded?.contract.admit === undefined) return true;
    const refusal = admitRefusal(loaded.contract, {
      className: loaded.descriptor.name,
      method: methodName(target, msg[3]),
      callerApartment: channel.peer,
      apartment: endpoint.self,
    }, this.options.labelOf ?? ((id) => `apartment ${id}`));
    if (!refusal) return true;
    const trace = activeTrace;
    if (trace) trace.record(TraceKind.Refuse, msg[6], channel.peer, msg[1], (refusal as { code?: string }).code ?? 'refused', msg[2]);
    endpoint.discardIncoming(channel, msg[5]);
    channel.replyError(msg[1], refusal, endpoint.self);
    return false;
  }

  private filterAccepts(filter: MessageFilter, endpoint: Endpoint, channel: Channel, msg: CallMessage, target: object): boolean {
    const [, callId, , index, , refs, causality] = msg;
    const method = methodName(target, index);
    const category = this.options.admission.classify(causality);
    let verdict;
    try {
      verdict = filter({ category, method, callerApartment: channel.peer, causality, className: classNameOf(target) });
    } catch (err) {
      // The filter runs before the call does, outside its context: name the caller's chain here.
      this.options.warn(`[message-filter] the message filter of ${this.options.label} threw (${(err as Error)?.message}); the call was accepted`, causality);
      return true;
    }
    if (verdict === 'accept') return true;
    const trace = activeTrace;
    if (trace) trace.record(TraceKind.Refuse, causality, channel.peer, callId, verdict === 'retry-later' ? 'RPC_E_SERVERCALL_RETRYLATER' : 'RPC_E_CALL_REJECTED', 0);
    endpoint.discardIncoming(channel, refs);
    const retry = verdict === 'retry-later';
    channel.replyError(callId, new CallRejectedError(
      retry
        ? `[retry-later] ${this.options.label} is busy and asked to retry call '${method}' later (${category}); give the call a retry policy (callOptions({ retry })) or try again`
        : `[call-rejected] the message filter of ${this.options.label} rejected call '${method}' (${category}); do not retry it as is`,
      { code: retry ? 'RPC_E_SERVERCALL_RETRYLATER' : 'RPC_E_CALL_REJECTED' },
    ), endpoint.self);
    return false;
  }

  private callsOf(channel: Channel): Map<number, ServedCall> {
    let calls = this.calls.get(channel);
    if (!calls) this.calls.set(channel, (calls = new Map()));
    return calls;
  }

  private invoke(endpoint: Endpoint, channel: Channel, callId: number, target: object, method: string | number, args: unknown[], served: ServedCall, turn: Turn | Untracked): void {
    const admission = this.options.admission;
    const trace = activeTrace;
    if (trace) trace.record(TraceKind.Start, served.causality, channel.peer, callId, method, 0);
    let result: unknown;
    try {
      result = runInCall(served, () => invokeMember(target, method, args));
    } catch (err) {
      if (trace) trace.record(TraceKind.End, served.causality, channel.peer, callId, method, 0);
      admission.leave(turn, served.causality);
      channel.replyError(callId, err, endpoint.self);
      return;
    }
    if (result === null || (typeof result !== 'object' && typeof result !== 'function') || typeof (result as PromiseLike<unknown>).then !== 'function') {
      if (trace) trace.record(TraceKind.End, served.causality, channel.peer, callId, method, 1);
      admission.leave(turn, served.causality);
      endpoint.respond(channel, callId, result);
      return;
    }
    // Still running after this turn of the loop: it can be cancelled until it settles.
    served.started = true;
    const calls = this.callsOf(channel);
    calls.set(callId, served);
    (result as PromiseLike<unknown>).then(
      (value) => {
        calls.delete(callId);
        if (trace) trace.record(TraceKind.End, served.causality, channel.peer, callId, method, 1);
        admission.leave(turn, served.causality);
        endpoint.respond(channel, callId, value);
      },
      (err: unknown) => {
        calls.delete(callId);
        if (trace) trace.record(TraceKind.End, served.causality, channel.peer, callId, method, 0);
        admission.leave(turn, served.causality);
        channel.replyError(callId, err, endpoint.self);
      },
    );
  }
}

function classNameOf(target: object): string {
  if (typeof target === 'function') return 'function';
  return (Object.getPrototypeOf(target) as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'object';
}
