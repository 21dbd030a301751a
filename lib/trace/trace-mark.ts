// A marker a program records on its own apartment's lane (a read, a write, a decision), so a
// trace shows what the code did between calls. Does nothing when this thread is not traced.
import { activeTrace, TraceKind } from '../../marshal/trace-hook.js';
import { currentCall } from '../../apartments/context.js';

/** Record `what` (with an optional number) on this apartment's lane, in the current call chain. */
export function traceMark(what: string, value = 0): void {
  const trace = activeTrace;
  if (trace) trace.record(TraceKind.Mark, currentCall()?.causality ?? -1, -1, -1, what, value);
}

/** Record a lock event on this apartment's lane (the shared mutex calls it; nothing when untraced). */
export function traceLock(kind: typeof TraceKind.LockAcquire | typeof TraceKind.LockRelease | typeof TraceKind.Refuse, name: string): void {
  const trace = activeTrace;
  if (trace) trace.record(kind, currentCall()?.causality ?? -1, -1, -1, name, 0);
}
