// The control services of the script engine: any apartment asks the main apartment to interrupt
// an engine's script ('script'), and the main apartment tells the engine's apartment to settle
// the interrupted call ('script-apartment').
import { ANY_ROLE, MAIN_ROLE, controlService, type ControlRouter } from '../../apartments/control-plane.js';
import { id } from '../../apartments/control-args.js';
import type { LocalApartment } from '../../apartments/local-apartment.js';
import { ScriptEngine } from './script-engine.js';

/** Interrupting scripts (served by the main apartment, which alone can stop a thread's JavaScript). */
export interface ScriptApi {
  interrupt(apartment: number, oid: number): boolean;
}
export const ScriptService = controlService<ScriptApi>('script');

/** Settling interrupted calls (served by every worker apartment, for the main apartment). */
export interface ScriptApartmentApi {
  /** The script of engine `oid` (generation `generation`; 0: the calls awaiting) was interrupted. */
  interrupted(oid: number, generation: number): boolean;
}
export const ScriptApartmentService = controlService<ScriptApartmentApi>('script-apartment');

/** Serve interrupt requests on the main apartment. */
export function serveScript(router: ControlRouter, interrupt: (apartment: number, oid: number) => Promise<boolean>): void {
  router.register(ScriptService, {
    interrupt: { roles: ANY_ROLE, check: (args) => [id(args[0], 'apartment'), id(args[1], 'oid')], run: (_caller, apartment, oid) => interrupt(apartment, oid) },
  });
}

/** Serve the settling of interrupted scripts in worker apartment `apartment`. */
export function serveScriptApartment(router: ControlRouter, apartment: LocalApartment): void {
  router.register(ScriptApartmentService, {
    interrupted: {
      roles: MAIN_ROLE,
      check: (args) => [id(args[0], 'oid'), id(args[1], 'generation')],
      run: (_caller, oid, generation) => {
        const engine = apartment.endpoint.exports.get(oid)?.object;
        if (!(engine instanceof ScriptEngine)) return false;
        return generation === 0 ? ScriptEngine.abandonAwaiting(engine) : ScriptEngine.interrupted(engine, generation);
      },
    },
  });
}
