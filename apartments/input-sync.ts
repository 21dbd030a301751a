// Input-synchronous methods (COM's RPC_E_CANTCALLOUT_ININPUTSYNCCALL rule). In COM, a call that arrives through
// SendMessage holds its caller's input queue until it returns, so it may not make outgoing calls:
// they fail with RPC_E_CANTCALLOUT_ININPUTSYNCCALL instead of deadlocking the caller's UI. Here a
// class lists such methods in `static inputSync = ['onPaint']`: the caller counts on them to
// return without waiting on any other apartment, so while one runs — across its awaits too — a
// call through a proxy, or a creation that lands in another apartment, fails at once with
// CantCallOutError. Calls to objects of the same apartment are direct and stay allowed.
// Owner apartment only.
import { currentCall } from './context.js';
import { CantCallOutError } from '../marshal/errors.js';

const noMethods: ReadonlySet<string> = new Set();
const declared = new WeakMap<object, ReadonlySet<string>>();

/** Whether `method` of `target`'s class is declared input-synchronous. */
export function isInputSync(target: object, method: string): boolean {
  const ctor = (target as { constructor?: unknown }).constructor;
  if (typeof ctor !== 'function') return false;
  let methods = declared.get(ctor);
  if (!methods) {
    const list = (ctor as { inputSync?: unknown }).inputSync;
    methods = Array.isArray(list) ? new Set(list.map(String)) : noMethods;
    declared.set(ctor, methods);
  }
  return methods.has(method);
}

/** Refuse an outgoing call (`what`, to `where`) made while an input-synchronous call is served here. */
export function refuseCallOutInInputSync(what: string, where: string): CantCallOutError | undefined {
  return currentCall()?.inputSync ? cantCallOut(what, where) : undefined;
}

/** The error of an outgoing call (`what`, to `where`) made from an input-synchronous call. */
export function cantCallOut(what: string, where: string): CantCallOutError {
  return new CantCallOutError(`[input-sync] ${what} to ${where} was refused: the call being served is input-synchronous (listed in its class's static inputSync) and may not call other apartments while it runs; make the call after it returns, or drop the method from inputSync`);
}
