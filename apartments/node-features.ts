// What the running Node.js offers that the runtime uses when it is there. Each is probed or read
// from a feature flag Node publishes, never from the version string: a flag can turn a feature on
// in an older line (--experimental-async-context-frame on 22) or off in a newer one
// (--no-async-context-frame on 24), and workers run with the same flags as the main thread.
import { AsyncLocalStorage, executionAsyncResource } from 'node:async_hooks';

let asyncContextProbe: Promise<boolean> | undefined;

/**
 * Whether AsyncLocalStorage follows async flows without async hooks here (AsyncContextFrame: on by
 * default from Node 24). With async hooks on, Node checks its async-id stack when a callback ends and
 * aborts the thread if it is unbalanced, which it is after the inspector stops a script mid-turn; that
 * is why interrupting a busy script needs `asyncCausality: false` where this is false.
 *
 * The probe: an AsyncLocalStorage built on async hooks turns on promise hooks while it is in use, and
 * then a promise reaction runs with its promise as the execution resource. Without async hooks it
 * runs with the resource of the task it belongs to. The probe's storage is disabled afterwards, so it
 * leaves no hook on. Answered once per thread.
 */
export function asyncContextWithoutHooks(): Promise<boolean> {
  asyncContextProbe ??= (async () => {
    const probe = new AsyncLocalStorage<boolean>();
    try {
      const ranOnItsPromise = await probe.run(true, () => Promise.resolve().then(() => executionAsyncResource() instanceof Promise));
      return !ranOnItsPromise;
    } finally {
      probe.disable();
    }
  })();
  return asyncContextProbe;
}

/**
 * Whether this Node strips TypeScript types from `.ts` modules by itself (on by default from Node
 * 22.18 and in 24; `process.features.typescript` is 'strip' or 'transform' then). A `.ts` plugin
 * module then loads in a worker apartment without a loader, as long as it uses only syntax that
 * can be erased (no enum, namespace with code, or constructor parameter properties).
 */
export function stripsTypeScript(): boolean {
  const mode = (process.features as { typescript?: unknown }).typescript;
  return mode === 'strip' || mode === 'transform';
}
