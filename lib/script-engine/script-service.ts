// The control services of the script engine: any apartment asks the main apartment to interrupt
// an engine's script ('script'), and the main apartment tells the engine's apartment to settle
// the interrupted call ('script-apartment').
import { ANY_ROLE, MAIN_ROLE, controlService, type ControlCaller, type ControlRouter } from '../../apartments/control-plane.js';
import { id, text } from '../../apartments/control-args.js';
import { AccessDeniedError, ModuleLoadError } from '../../marshal/errors.js';
import type { LocalApartment } from '../../apartments/local-apartment.js';
import { registerValueType, valueType } from '../../marshal/value-types.js';
import { ENGINE_COPY, settleInterrupted } from './engine-handles.js';

// An engine's copy can arrive in any apartment: until the engine's module is loaded here, its
// rebuilder loads it (the module then registers the rebuilder that replaces this one).
const loadThenRebuild = async (payload: unknown): Promise<unknown> => {
  await import('./script-engine.js');
  const rebuild = valueType(ENGINE_COPY);
  if (rebuild === undefined || rebuild === loadThenRebuild) throw new ModuleLoadError('[script-engine] the script engine module did not register how its copies are rebuilt; rebuild the package');
  return rebuild(payload);
};
if (valueType(ENGINE_COPY) === undefined) registerValueType(ENGINE_COPY, loadThenRebuild);

/** Interrupting scripts (served by the main apartment, which alone can stop a thread's JavaScript). */
export interface ScriptApi {
  /**
   * Only the main apartment and holders of a reference to the engine may interrupt it: a holder shows
   * the engine's grant (from its proxy), which an apartment that only knows the ids does not have.
   */
  interrupt(apartment: number, oid: number, grant: string): boolean;
}
export const ScriptService = controlService<ScriptApi>('script');

/** Settling interrupted calls (served by every worker apartment, for the main apartment). */
export interface ScriptApartmentApi {
  /**
   * The script of engine `oid` (generation `generation`; 0: the calls awaiting) was interrupted, at
   * the request of the holder of `grant`, which must be the engine's ('' when the main apartment
   * asked itself).
   */
  interrupted(oid: number, generation: number, grant: string): boolean;
}
export const ScriptApartmentService = controlService<ScriptApartmentApi>('script-apartment');

/** Serve interrupt requests on the main apartment. */
export function serveScript(router: ControlRouter, interrupt: (apartment: number, oid: number, grant: string, caller: ControlCaller) => Promise<boolean>): void {
  router.register(ScriptService, {
    interrupt: {
      roles: ANY_ROLE,
      check: (args) => [id(args[0], 'apartment'), id(args[1], 'oid'), text(args[2], 'grant', 64)],
      run: (caller, apartment, oid, grant) => interrupt(apartment, oid, grant, caller),
    },
  });
}

/** Serve the settling of interrupted scripts in worker apartment `apartment`. */
export function serveScriptApartment(router: ControlRouter, apartment: LocalApartment): void {
  router.register(ScriptApartmentService, {
    interrupted: {
      roles: MAIN_ROLE,
      check: (args) => [id(args[0], 'oid'), id(args[1], 'generation'), text(args[2], 'grant', 64)],
      run: (_caller, oid, generation, grant) => {
        const entry = apartment.endpoint.exports.get(oid);
        // Interrupting is for the host and for holders of a reference: an id alone grants nothing.
        if (!entry || (grant !== '' && grant !== entry.grant)) throw interruptDenied(oid, apartment.id);
        return settleInterrupted(entry.object, generation);
      },
    },
  });
}

/** The refusal of an interrupt asked for by an apartment that does not hold the engine. */
export function interruptDenied(oid: number, apartment: number | string): AccessDeniedError {
  return new AccessDeniedError(`[interrupt-denied] the caller holds no reference to script engine ${oid} of apartment ${apartment}; only the main apartment and holders of the engine (interruptScript() with its proxy) may interrupt it`);
}
