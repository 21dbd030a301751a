// An apartment that pokes at the host's script engine: allowed while the engine is free-threaded,
// refused once the host bound it, and able to interrupt a runaway script at any time.
import { bindScriptEngineApi, interruptScript, type ApartmentError } from 'apartment-runtime';
import type { EditorApi } from './editor-api.js';
import { EditorApiRemote } from './generated/editor-api.remote.js';

export class Editor implements EditorApi {
  static threading = 'apartment';
  static remoteInterface = EditorApiRemote;

  async tryToUse(engine: object): Promise<string> {
    try {
      await (await bindScriptEngineApi(engine)).addNamedItem('fromEditor', 1);
      return 'allowed';
    } catch (err) {
      return `refused with ${(err as Error).name} (${(err as ApartmentError).code})`;
    }
  }

  async state(engine: object): Promise<string> {
    return (await bindScriptEngineApi(engine)).getState();
  }

  stop(engine: object): Promise<boolean> {
    return interruptScript(engine);
  }
}
