// interruptScript(): stop the script an engine in another apartment is running, from any apartment.
import { remoteStateOf } from '../../marshal/proxy.js';
import { boundReference } from '../interface-binding.js';
import { InvalidArgumentError } from '../../marshal/errors.js';
import { mainService } from '../../apartments/main-call.js';
import { ScriptService } from './script-service.js';

/**
 * Interrupt the script `engine` (a proxy to a ScriptEngine in a worker apartment, or the typed proxy
 * bindScriptEngineApi made of one) is running now;
 * resolves true if one was stopped. Its pending call fails with ScriptError `[interrupted]`; the
 * engine stays usable with its global state as it was.
 */
export async function interruptScript(engine: unknown): Promise<boolean> {
  const state = remoteStateOf(engine) ?? remoteStateOf(boundReference(engine));
  if (!state) {
    throw new InvalidArgumentError('[interrupt] interruptScript() needs the proxy of an engine in another worker apartment; an engine of this apartment is never running while this code runs', { parameter: 'engine' });
  }
  return mainService(ScriptService).interrupt(state.apartment, state.oid, state.grant === 0 ? '' : state.grant);
}
