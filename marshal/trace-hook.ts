// The one optional hook through which the engine reports what it does to a tracer: the kinds of
// event, the sink interface, and this thread's sink. Nothing here records anything; a composition
// root installs a sink (lib/trace) when tracing is on. While no sink is installed each hook point
// costs one read of `activeTrace` and a branch, and produces nothing. One sink per thread: every
// thread runs exactly one apartment. Owner: the thread that installs it.

/** What happened; the numbers are stored in shared memory, so they never change meaning. */
export const TraceKind = {
  /** Caller side: a call left for `peer` (callId is the caller's channel call id). */
  Send: 1,
  /** Caller side: the answer to call `callId` from `peer` arrived (extra: 1 ok, 0 error). */
  Reply: 2,
  /**
   * Callee side: a call from `peer` arrived. Not recorded on its own: a call's arrival is its first
   * event here (Queue, Start or Refuse), which saves a clock read per call. Kept so the number
   * stays reserved.
   */
  Arrive: 3,
  /** Callee side: the call waits for its turn (admission); it arrived now. */
  Queue: 4,
  /** Callee side: the call starts running (it arrived now, unless it was queued). */
  Start: 5,
  /** Callee side: the call finished (extra: 1 ok, 0 threw). */
  End: 6,
  /** Callee side: the call was refused before it ran (name: the error's code). */
  Refuse: 7,
  /** An object was exported (extra: live exports after). */
  Export: 8,
  /** An exported object's last reference went (extra: live exports after). */
  Release: 9,
  /** Host: apartment `peer` faulted. */
  Fault: 10,
  /** Host: apartment `peer` was replaced by apartment `extra`. */
  Restart: 11,
  /** A lock was acquired (name: the lock). */
  LockAcquire: 12,
  /** A lock was released (name: the lock). */
  LockRelease: 13,
  /** A free-form marker a scenario or feature records (name: what). */
  Mark: 14,
} as const;

export type TraceKindCode = (typeof TraceKind)[keyof typeof TraceKind];

/** Where trace events go; installed per thread by a composition root, absent when tracing is off. */
export interface TraceSink {
  /**
   * One event. `peer` is the other apartment (or -1), `callId` the channel's call id (or -1),
   * `name` a method, error code or lock name (or ''), `extra` a count or flag.
   */
  record(kind: TraceKindCode, causality: number, peer: number, callId: number, name: string | number, extra: number): void;
}

/** This thread's sink; read it once per hook point and call it only when set. */
export let activeTrace: TraceSink | undefined;

/** Install (or with undefined, remove) this thread's sink. */
export function setTraceSink(sink: TraceSink | undefined): void {
  activeTrace = sink;
}
