// A wait that code starts while it serves a call (a lease it waits for, a lock) belongs to that
// call: once its caller cancels it or it passes its deadline, nobody is left to use what the wait
// would grant, and a lease or lock granted then would be held by a call that has ended, until its
// own time limit (often none) ran out. So such a wait ends with the served call as well as with its
// own signal.
import { currentCall } from './context.js';

/**
 * `own` (a wait's own signal, if any) joined with the signal of the call being served, which aborts
 * when that call is cancelled or passes its deadline. Read it before the first await: without async
 * call tracking the served call is known only until then.
 */
export function withServedCall(own: AbortSignal | undefined): AbortSignal | undefined {
  const served = currentCall()?.signal;
  if (served === undefined || served === own) return own;
  return own === undefined ? served : AbortSignal.any([own, served]);
}
