// Runs the calls that arrive at an apartment: as a call arrives, find the target, let its class's
// contract (admit()) and the message filter decide whether it may run at all, and rebuild the
// arguments; a call that may not start yet (an attach running here, its arguments still being
// rebuilt, or an earlier call of its caller waiting) waits in arrival-queue.ts. Then call admission
// gives it its object's turn, and it invokes the member through the stub inside the call's context
// (so calls it makes carry its causality id) and answers with the result or the error. A Cancel
// drops a call that has not started and aborts the signal of one that has, and tells the caller
// which it was (cancel-ack.ts); a call still running a grace period after that loses its object's
// turn (call-limits.ts). A call that would wait behind too many others is refused with
// retry-later. Owner apartment only.
import { runInCall } from './context.js';
import { admitRefusal } from './contract-admit.js';
import { ApartmentError, CallRejectedError, DisconnectedError } from '../marshal/errors.js';
import { describeThrown } from '../marshal/error-codec.js';
import { classNameOf } from '../marshal/class-name.js';
import type { Channel } from '../marshal/channel.js';
import { IdTable } from '../marshal/id-table.js';
import type { CallDispatcher, CallHost, IncomingCall } from '../marshal/incoming-call.js';
import { ArrivalQueue, type PendingAttach } from './arrival-queue.js';
import { acknowledgeCancel } from './cancel-ack.js';
import { CONTROL_OID, type NotifyMessage } from '../marshal/protocol.js';
import { invokeMember, methodName } from '../marshal/stub.js';
import { forwardedTo, invokeOrForward } from './forwarded-call.js';
import type { RemoteState } from '../marshal/remote-state.js';
import { activeTrace, TraceKind } from '../marshal/trace-hook.js';
import { activeCarrier } from '../marshal/context-carrier.js';
import { passesFilter, UNTRACKED, type Admission, type MessageFilter, type Turn, type Untracked } from './admission.js';
import { DEFAULT_CALL_LIMITS, type CallLimits } from './call-limits.js';
import type { LoadedClass } from './class-loader.js';
import { isInputSync } from './input-sync.js';
import { QueueLimits } from './queue-limits.js';
import { ServedCall } from './served-call.js';

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
  /** Queue limits and overrun policy (default: DEFAULT_CALL_LIMITS). */
  limits?: CallLimits;
  /** Fault this apartment (the overrun policy 'fault'); absent in the main apartment, which only hands on. */
  fault?(error: Error): void;
  /** Attach hooks that user calls wait for (worker apartments; the main one attaches outside any call). */
  attach?: PendingAttach;
}

/** Dispatches incoming calls to the objects an apartment exports (and its control object). */
export class Dispatcher implements CallDispatcher {
  /** Calls queued or running past their turn, by channel and the caller's call id (IdTable: no garbage per call). */
  private readonly calls = new Map<Channel, IdTable<ServedCall>>();
  /** Calls waiting in their caller's order for their arguments, an earlier call of their caller, or an attach. */
  private readonly arrivals: ArrivalQueue;
  private readonly limits: CallLimits;
  private readonly queues: QueueLimits;
  private wedged = 0;

  constructor(private readonly options: DispatcherOptions) {
    this.limits = options.limits ?? DEFAULT_CALL_LIMITS;
    this.arrivals = new ArrivalQueue((call, target, args) => this.admitCall(call, target, false, args), (message, causality) => options.warn(message, causality),
      options.attach, (causality) => options.admission.classify(causality) === 'nested');
    this.queues = new QueueLimits(this.limits, options.admission, this.arrivals, options.label, classNameOf);
  }

  /** Calls still running after their turn was handed on (their callers gave up on them). */
  get wedgedCalls(): number {
    return this.wedged;
  }

  /** Calls refused so far because the queue they would join was full. */
  get refusedCalls(): number {
    return this.queues.refused;
  }

  dispatch(call: IncomingCall): void {
    // Indexed reads, not getters: this is the hot path of every call.
    const msg = call.message;
    const host = call.host;
    const channel = call.channel;
    const oid = msg[2];
    const control = oid === CONTROL_OID;
    const entry = control ? undefined : host.exports.get(oid);
    if (entry !== undefined && !entry.counts.has(channel.peer)) {
      // Object ids are small counters: a peer may call only what it holds a reference to.
      call.refuse(host.notGranted(channel.peer, oid, `called '${String(msg[3])}' on`));
      return;
    }
    const target = control ? host.control : entry?.object;
    if (target === undefined) {
      const trace = activeTrace;
      if (trace) trace.record(TraceKind.Refuse, msg[6], channel.peer, msg[1], 'CO_E_OBJNOTCONNECTED', oid);
      call.refuse(new DisconnectedError(`[object-gone] object ${oid} in ${this.options.label} no longer exists (it was released); obtain a new reference`, { code: 'CO_E_OBJNOTCONNECTED' }));
      return;
    }
    if (!control && !this.contractAdmits(call, target)) return;
    const filter = control ? undefined : this.options.filter();
    if (filter) {
      const method = methodName(target, msg[3]);
      if (!passesFilter(target, method) && !this.filterAccepts(filter, call, target, method)) return;
    }
    let decoded: unknown[] | Promise<unknown[]>;
    try {
      decoded = call.decodeArgs();
    } catch (err) {
      call.fail(err);
      return;
    }
    if (control) {
      // A control call orders nothing the caller can see: admit it as soon as its arguments are rebuilt.
      if (decoded instanceof Promise) decoded.then((args) => this.admitCall(call, target, control, args), (err: unknown) => call.withdraw(err));
      else this.admitCall(call, target, control, decoded);
    } else if (decoded instanceof Promise || this.arrivals.mustWait(channel, msg[6])) {
      // An argument needs its class loaded here first (a free-threaded view), an earlier call of the
      // same caller waits, or an attach runs: wait in the caller's order (arrival-queue.ts), counted as queued.
      const full = this.queues.refusalInApartment(channel, target, call.method);
      if (full === undefined) return this.arrivals.enqueue(call, target, decoded);
      if (decoded instanceof Promise) decoded.then(() => call.withdraw(full), () => call.withdraw(full));
      else call.withdraw(full);
    } else {
      this.admitCall(call, target, control, decoded);
    }
  }

  private admitCall(call: IncomingCall, target: object, control: boolean, args: unknown[]): void {
    try {
      this.enterOrWait(call, target, control, args);
    } catch (err) {
      // Reading the target's class threw (a `constructor` getter, say) before the call got in: answer with it.
      call.withdraw(err);
    }
  }

  private enterOrWait(call: IncomingCall, target: object, control: boolean, args: unknown[]): void {
    // Its arguments were rebuilt after a wait (a class to load): the caller may have gone meanwhile.
    const gone = call.channel.closed;
    if (gone) return call.withdraw(gone);
    const msg = call.message;
    const callId = msg[1];
    const method = msg[3];
    const causality = msg[6];
    const channel = call.channel;
    const name = methodName(target, method);
    const served = new ServedCall(channel.peer, causality, msg[5], !control && isInputSync(target, name));
    const admission = this.options.admission;
    // A proxy exported on takes no turn here (forwarded-call.ts), and is read once for the call.
    const remote = control ? undefined : forwardedTo(target);
    const turn = admission.enter(target, name, causality, control || remote !== undefined);
    if (turn !== undefined) {
      this.invoke(call, target, args, served, turn, remote);
      return;
    }
    const full = this.queues.refusalOnObject(channel, target, name);
    if (full) return call.withdraw(full);
    const calls = this.callsOf(channel);
    calls.set(callId, served);
    const trace = activeTrace;
    if (trace) trace.record(TraceKind.Queue, causality, channel.peer, callId, name, 0);
    const queues = this.queues;
    queues.waits(channel);
    try {
      served.ticket = admission.wait({
        target,
        method: name,
        causality,
        start: (held) => {
          served.started = true;
          calls.delete(callId);
          queues.waited(channel);
          this.invoke(call, target, args, served, held);
        },
        refuse: (error) => {
          calls.delete(callId);
          queues.waited(channel);
          if (trace) trace.record(TraceKind.Refuse, causality, channel.peer, callId, (error as { code?: string }).code ?? 'refused', 0);
          call.withdraw(error);
        },
      });
    } catch (err) {
      // Reading the target's class rules threw (a `constructor` getter): the call never waited.
      calls.delete(callId);
      queues.waited(channel);
      throw err;
    }
  }

  /** Run a one-way notification on the control object; a failure is logged, never answered. */
  notify(host: CallHost, channel: Channel, msg: NotifyMessage): void {
    const causality = msg[3];
    const report = (err: unknown): void => this.options.warn(`[notify] notification '${msg[1]}' from ${this.options.labelOf?.(channel.peer) ?? `apartment ${channel.peer}`} failed in ${this.options.label}: ${describeThrown(err)}`, causality);
    try {
      const result = runInCall(new ServedCall(channel.peer, causality, 0, false), () => invokeMember(host.control, msg[1], msg[2]));
      if (result instanceof Promise) result.catch(report);
    } catch (err) {
      report(err);
    }
  }

  cancel(host: CallHost, channel: Channel, callId: number): void {
    if (this.arrivals.cancel(channel, callId)) {
      acknowledgeCancel(host, channel, callId, 'queued');
      return;
    }
    const served = this.calls.get(channel)?.get(callId);
    if (!served) {
      acknowledgeCancel(host, channel, callId, 'unknown');
      return;
    }
    if (!served.started && served.ticket) {
      // Queued and cancelled: it never starts, and what it carried is given back.
      served.ticket.cancel();
      this.calls.get(channel)!.delete(callId);
      this.queues.waited(channel);
      host.releaseArrivals(served.refs);
      acknowledgeCancel(host, channel, callId, 'queued');
    } else {
      served.cancel();
      acknowledgeCancel(host, channel, callId, 'running');
      this.watchOverrun(served);
    }
  }

  /** The caller gave up on a running call: if it still holds its object's turn after the grace period, hand the turn on (or fault). */
  private watchOverrun(served: ServedCall): void {
    if (served.turn === undefined || served.turn === UNTRACKED || served.overrun || served.abandoned) return;
    const turn = served.turn;
    served.overrun = setTimeout(() => {
      served.overrun = undefined;
      if (served.turn === undefined) return;
      served.abandoned = true;
      this.wedged++;
      this.options.admission.leave(turn, served.causality);
      const what = `call '${served.method}' from ${this.options.labelOf?.(served.callerApartment) ?? `apartment ${served.callerApartment}`}`;
      if (this.limits.onOverrun === 'fault' && this.options.fault) {
        this.options.fault(new ApartmentError('E_UNEXPECTED', `[wedged] ${what} in ${this.options.label} still ran ${this.limits.overrunGraceMs} ms after its caller gave up; the apartment is faulted (callLimits.onOverrun 'fault')`));
        return;
      }
      this.options.warn(`[wedged] ${what} in ${this.options.label} still runs ${this.limits.overrunGraceMs} ms after its caller gave up and ignores its aborted signal; its object's turn was handed on to the next call (stats: wedgedCalls)`, served.causality);
    }, this.limits.overrunGraceMs);
    served.overrun.unref();
  }

  /** A started call settled: give its turn back unless it was already handed on. */
  private settled(served: ServedCall, turn: Turn | Untracked): void {
    served.turn = undefined;
    if (served.overrun) clearTimeout(served.overrun);
    served.overrun = undefined;
    if (served.abandoned) {
      this.wedged--;
      return;
    }
    this.options.admission.leave(turn, served.causality);
  }

  /** Calls waiting here: for their turn, or in their caller's order before it (arrival-queue.ts). */
  queuedInApartment(): number {
    return this.queues.queuedInApartment();
  }

  /**
   * The caller behind `channel` is gone (its apartment died or closed, or this one is closing): no
   * one is left to answer. A queued call never starts and gives back what it carried; a running
   * one is treated as cancelled: its signal aborts, and if it still runs after the grace period it
   * loses its object's turn (watchOverrun).
   */
  callerGone(host: CallHost, channel: Channel): void {
    this.arrivals.drop(channel);
    this.queues.callerGone(channel);
    const calls = this.calls.get(channel);
    if (!calls) return;
    this.calls.delete(channel);
    for (const served of calls.values()) {
      if (!served.started && served.ticket) {
        served.ticket.cancel();
        host.releaseArrivals(served.refs);
      } else {
        served.cancel();
        this.watchOverrun(served);
      }
    }
  }

  /** Ask the contract of the target's class (if it has admit()); a refusal answers the call here. */
  private contractAdmits(call: IncomingCall, target: object): boolean {
    const loaded = this.options.classOf?.(target);
    if (loaded?.contract.admit === undefined) return true;
    const refusal = admitRefusal(loaded.contract, {
      className: loaded.descriptor.name,
      method: methodName(target, call.method),
      callerApartment: call.caller,
      apartment: call.host.self,
    }, this.options.labelOf ?? ((id) => `apartment ${id}`));
    if (!refusal) return true;
    const trace = activeTrace;
    if (trace) trace.record(TraceKind.Refuse, call.causality, call.caller, call.callId, (refusal as { code?: string }).code ?? 'refused', call.oid);
    call.refuse(refusal);
    return false;
  }

  private filterAccepts(filter: MessageFilter, call: IncomingCall, target: object, method: string): boolean {
    const [, callId, , , , , causality] = call.message;
    const category = this.options.admission.classify(causality);
    let verdict;
    try {
      verdict = filter({ category, method, callerApartment: call.caller, causality, className: classNameOf(target) });
    } catch (err) {
      // The filter runs before the call does, outside its context: name the caller's chain here.
      this.options.warn(`[message-filter] the message filter of ${this.options.label} threw (${(err as Error)?.message}); the call was accepted`, causality);
      return true;
    }
    if (verdict === 'accept') return true;
    const trace = activeTrace;
    if (trace) trace.record(TraceKind.Refuse, causality, call.caller, callId, verdict === 'retry-later' ? 'RPC_E_SERVERCALL_RETRYLATER' : 'RPC_E_CALL_REJECTED', 0);
    const retry = verdict === 'retry-later';
    call.refuse(new CallRejectedError(
      retry
        ? `[retry-later] ${this.options.label} is busy and asked to retry call '${method}' later (${category}); give the call a retry policy (callOptions({ retry })) or try again`
        : `[call-rejected] the message filter of ${this.options.label} rejected call '${method}' (${category}); do not retry it as is`,
      { code: retry ? 'RPC_E_SERVERCALL_RETRYLATER' : 'RPC_E_CALL_REJECTED' },
    ));
    return false;
  }

  private callsOf(channel: Channel): IdTable<ServedCall> {
    let calls = this.calls.get(channel);
    if (!calls) this.calls.set(channel, (calls = new IdTable()));
    return calls;
  }

  /** Run the call (`remote`: where it is passed on to, for a proxy exported on; such calls never wait for a turn). */
  private invoke(call: IncomingCall, target: object, args: unknown[], served: ServedCall, turn: Turn | Untracked, remote?: RemoteState): void {
    const admission = this.options.admission;
    const callId = call.message[1];
    const method = call.message[3];
    const peer = call.channel.peer;
    const trace = activeTrace;
    if (trace) trace.record(TraceKind.Start, served.causality, peer, callId, method, 0);
    let result: unknown;
    const carried = call.message[7];
    const carrier = carried === undefined ? undefined : activeCarrier;
    try {
      result = carrier ? carrier.within(carried!, () => runInCall(served, () => invokeOrForward(target, remote, method, args, served))) : runInCall(served, () => invokeOrForward(target, remote, method, args, served));
    } catch (err) {
      if (trace) trace.record(TraceKind.End, served.causality, peer, callId, method, 0);
      admission.leave(turn, served.causality);
      call.fail(err);
      return;
    }
    let pending: PromiseLike<unknown>;
    try {
      if (result === null || (typeof result !== 'object' && typeof result !== 'function') || typeof (result as PromiseLike<unknown>).then !== 'function') {
        if (trace) trace.record(TraceKind.End, served.causality, peer, callId, method, 1);
        admission.leave(turn, served.causality);
        call.reply(result);
        return;
      }
      // A native promise as is; anything else thenable is adopted, so a `then` that throws rejects.
      pending = result instanceof Promise ? result : Promise.resolve(result);
    } catch (err) {
      // A result whose `then` getter or proxy traps throw: answer with what they threw.
      if (trace) trace.record(TraceKind.End, served.causality, peer, callId, method, 0);
      admission.leave(turn, served.causality);
      call.fail(err);
      return;
    }
    // Still running after this turn of the loop: it can be cancelled until it settles.
    served.started = true;
    served.turn = turn;
    served.method = methodName(target, method);
    const calls = this.callsOf(call.channel);
    calls.set(callId, served);
    pending.then(
      (value) => {
        calls.delete(callId);
        if (trace) trace.record(TraceKind.End, served.causality, peer, callId, method, 1);
        this.settled(served, turn);
        call.reply(value);
      },
      (err: unknown) => {
        calls.delete(callId);
        if (trace) trace.record(TraceKind.End, served.causality, peer, callId, method, 0);
        this.settled(served, turn);
        call.fail(err);
      },
    );
  }
}
