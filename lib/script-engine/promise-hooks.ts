// Whether this thread's promise jobs run under async_hooks' promise hooks. Those hooks push an entry
// on Node's async id stack before each promise job and pop it after; a job that a time limit or an
// interrupt stops never pops, and Node aborts the whole process at the end of the callback it ran
// in ("async hook stack has become corrupted"). So a script realm may run its own promise jobs
// inside stoppable vm calls (microtaskMode 'afterEvaluate', script-drain.ts) only while the hooks
// are off: on Node 24 unless some code enabled async_hooks, on Node 20 and 22 in an apartment with
// asyncCausality: false (the runtime's AsyncLocalStorage turns them on there). Owner thread only.
import { executionAsyncId } from 'node:async_hooks';
import vm from 'node:vm';
import { isMainThread } from 'node:worker_threads';
import { ThreadExit, threadExitMeaning } from '../../apartments/thread-exits.js';

let probe: { ctx: vm.Context; script: vm.Script } | undefined;

/** Whether promise jobs run under promise hooks now: a job in a probe realm sees its own async id then. */
export function promiseHooksOn(): boolean {
  probe ??= {
    ctx: vm.createContext(Object.create(null) as object, { name: 'apartment-runtime promise-hook probe', microtaskMode: 'afterEvaluate' }),
    // A handler of the probe's realm: a job runs in the queue of its handler's realm.
    script: new vm.Script('Promise.resolve().then(() => __seen())', { filename: 'promise-hook-probe.js' }),
  };
  let inJob = -1;
  probe.ctx['__seen'] = (): void => {
    inJob = executionAsyncId();
  };
  const outside = executionAsyncId();
  probe.script.runInContext(probe.ctx);
  return inJob !== outside;
}

/** Whether Node's async id stack still stands where it stood when `before` was read: a stopped promise job leaves it pushed. */
export function asyncStackIntact(before: number): boolean {
  return executionAsyncId() === before;
}

/**
 * End this thread: a stopped promise job broke its async id stack, and returning to Node would abort
 * the whole process. In a worker apartment only the apartment ends (its fault says why); in a
 * process apartment, its process; on a host's main thread, the host (the reason goes to stderr).
 */
export function endBrokenThread(): never {
  if (isMainThread) process.stderr.write(`${threadExitMeaning(ThreadExit.BrokenAsyncStack)}\n`);
  process.exit(ThreadExit.BrokenAsyncStack);
}
