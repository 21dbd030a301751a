// Runtime work that outlives the code that set it off (the end-of-turn flush, one timer for the
// deadlines of many calls, a sampler that keeps re-arming itself) runs outside that code's async
// context. A Node timer or microtask keeps the AsyncLocalStorage stores that were current when it
// was made: a served call's (and through it the call's arguments, proxies among them) or a user's.
// A runtime timer made inside a call held that call's arguments until it fired, 30 s later, and one
// that re-arms itself from its own callback would hold them for good. Owner thread only.
import { AsyncResource } from 'node:async_hooks';

// Made when the module loads, outside any call.
const outside = new AsyncResource('apartment-runtime.outside-calls');

/** Run `work` outside every async context of its caller; returns what `work` returns. */
export function outsideCalls<T>(work: () => T): T {
  return outside.runInAsyncScope(work);
}
