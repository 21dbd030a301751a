// An apartment that pokes at the host's script engine: allowed while the engine is free-threaded,
// refused once the host bound it, and able to interrupt a runaway script at any time.
import { interruptScript, type ApartmentError } from 'apartment-runtime';

type Engine = { addNamedItem(n: string, v: unknown): Promise<void>; getState(): Promise<string>; interrupt?: never };

export class Editor {
  static threading = 'apartment';
  async tryToUse(engine: Engine): Promise<string> {
    try {
      await engine.addNamedItem('fromEditor', 1);
      return 'allowed';
    } catch (err) {
      return `refused with ${(err as Error).name} (${(err as ApartmentError).code})`;
    }
  }
  state(engine: Engine): Promise<string> {
    return engine.getState();
  }
  stop(engine: Engine): Promise<boolean> {
    return interruptScript(engine);
  }
}
