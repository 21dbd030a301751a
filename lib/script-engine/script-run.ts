// One script run on its apartment's script gate, and the border between its script and the host
// code it calls. A stop (an interrupt) may land only where the script's own code runs: host code
// the script calls, through the membrane, runs with the run taken off the gate, and a script
// function that host code calls back puts it on again.
import { pauseRun, resumeRun } from '../../apartments/script-gate.js';

/** Where the membrane crosses between a script and host code (the engine's current run, if any). */
export interface ScriptBorder {
  /** Run host code a script called. */
  outside<T>(call: () => T): T;
  /** Run script code host code called. */
  inside<T>(call: () => T): T;
  /** Host code settled a promise of the script's realm: its jobs wait in the realm's queue. */
  settled?(): void;
}

/** No run to take off the gate: both ways just call. */
export const OPEN_BORDER: ScriptBorder = { outside: (call) => call(), inside: (call) => call() };

/** The run going on in an engine's script turn (owner apartment only; one at a time per engine). */
export class ScriptRun implements ScriptBorder {
  /**
   * Set once the run has handed a thenable over to wait for: a stop landing after that (the run had
   * ended, still claimed) must settle the call through it, so that no stale wait is left behind.
   */
  abandon?: (err: Error) => void;
  /** True while the run is off the gate, in host code it called. */
  private paused = false;

  constructor(
    readonly reject: (err: unknown) => void,
    /** The run's token on the gate. */
    readonly generation: number,
    private readonly gate: Int32Array,
  ) {}

  /** Run host code the script called; a stop on its way lands before it, never in it. */
  outside<T>(call: () => T): T {
    if (this.paused || !pauseRun(this.gate, this.generation)) return call();
    this.paused = true;
    try {
      return call();
    } finally {
      if (this.paused) resumeRun(this.gate, this.generation);
      this.paused = false;
    }
  }

  /** Run script code that host code called back, where the script may be stopped again. */
  inside<T>(call: () => T): T {
    if (!this.paused) return call();
    this.paused = false;
    resumeRun(this.gate, this.generation);
    try {
      return call();
    } finally {
      this.paused = pauseRun(this.gate, this.generation);
    }
  }
}
