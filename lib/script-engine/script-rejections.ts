// A script's promise that rejects with nobody to handle it is the script's own failure, as an
// uncaught throw in a script call is: the engine reports it and the apartment goes on. Node would
// end the thread instead (its default for an unhandled rejection), so one rejection a script left
// behind, or one the runtime left in a script realm when an interrupt abandoned an `await`, would
// fault the apartment and every object in it. The thread's own promises keep Node's behaviour.
import { hostValueBehind } from './host-membrane.js';
import { describeThrown } from './script-source.js';

let installed = false;

/**
 * From now on in this thread, report unhandled rejections of script-realm promises through `warn`
 * instead of letting them end the thread. Installed once per thread, by the first engine started.
 */
export function containScriptRejections(warn: (message: string) => void): void {
  if (installed) return;
  installed = true;
  process.on('unhandledRejection', (reason, promise) => {
    // Scripts never hold a host-realm promise (the membrane gives them promises of their realm), so
    // a promise of this realm is the thread's own: with no other listener, it ends the thread as
    // Node would have.
    if (Promise.prototype.isPrototypeOf(promise)) {
      if (process.listenerCount('unhandledRejection') === 1 && rejectionsEndThread()) throw reason;
      return;
    }
    warn(`[script-rejection] a script's promise rejected and nothing handled it (${describeThrown(hostValueBehind(reason) ?? reason).slice(0, 300)}); the apartment goes on: handle the rejection in the script`);
  });
}

/** Whether Node, left alone, ends the thread on an unhandled rejection (its default mode, `throw`). */
function rejectionsEndThread(): boolean {
  const flags = [...process.execArgv, process.env['NODE_OPTIONS'] ?? ''].join(' ');
  const mode = /--unhandled-rejections[= ](\S+)/.exec(flags)?.[1] ?? 'throw';
  return mode === 'throw';
}
