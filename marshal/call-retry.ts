// The caller's side of COM's retry-later protocol (IMessageFilter::RetryRejectedCall): a call the
// callee's message filter answered with retry-later is sent again — now, or after the policy's
// delay — up to the policy's number of attempts. A cancel while waiting to retry rejects the call
// at once with CallCanceledError. Owner apartment only.
import { CallCanceledError, CallRejectedError } from './errors.js';
import type { RetryPolicy } from './call-options.js';

/** Send with `send`, retrying per `policy` while the callee answers retry-later; `what` names the call in errors. */
export async function sendWithRetry(send: () => Promise<unknown>, policy: RetryPolicy, signal: AbortSignal | undefined, what: () => string): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (!(err instanceof CallRejectedError) || err.code !== 'RPC_E_SERVERCALL_RETRYLATER' || attempt >= policy.attempts) throw err;
    }
    if (!policy.delayMs) continue;
    try {
      // Loaded at the first delayed retry, not with every apartment (node:timers/promises).
      await process.getBuiltinModule('node:timers/promises').setTimeout(policy.delayMs, undefined, signal ? { signal } : undefined);
    } catch {
      throw new CallCanceledError(`[canceled] ${what()} was cancelled by its caller while waiting to retry`, { cause: signal?.reason });
    }
  }
}
