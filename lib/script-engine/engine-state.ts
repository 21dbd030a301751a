// The script engine's states and which moves between them are legal (COM-REFERENCE rule 21).
// Pure data: no engine, no threads; the engine asks it before every state change.

/** The six states of the script-engine contract, in the order an engine normally passes them. */
export const SCRIPT_ENGINE_STATES = ['uninitialized', 'initialized', 'started', 'connected', 'disconnected', 'closed'] as const;

/** One state of a script engine. */
export type ScriptEngineState = (typeof SCRIPT_ENGINE_STATES)[number];

// Moves a host may ask for with setState(). Reaching 'initialized' from 'uninitialized' happens
// through setSite() only, because initialization is what binds the engine to an apartment.
const LEGAL_MOVES: Readonly<Record<ScriptEngineState, readonly ScriptEngineState[]>> = {
  uninitialized: ['closed'],
  initialized: ['started', 'connected', 'uninitialized', 'closed'],
  started: ['connected', 'uninitialized', 'closed'],
  connected: ['disconnected', 'uninitialized', 'closed'],
  disconnected: ['connected', 'uninitialized', 'closed'],
  closed: [],
};

/** True when `value` names a state. */
export function isScriptEngineState(value: unknown): value is ScriptEngineState {
  return typeof value === 'string' && (SCRIPT_ENGINE_STATES as readonly string[]).includes(value);
}

/** True when setState(to) may move an engine that is in `from` (the same state is handled before). */
export function isLegalMove(from: ScriptEngineState, to: ScriptEngineState): boolean {
  return LEGAL_MOVES[from].includes(to);
}

/** States in which global code has run, so script functions exist and may be invoked. */
export function hasRunGlobalCode(state: ScriptEngineState): boolean {
  return state === 'started' || state === 'connected' || state === 'disconnected';
}

/** The index of a state, as mirrored into shared memory for readers on other threads. */
export function stateIndex(state: ScriptEngineState): number {
  return SCRIPT_ENGINE_STATES.indexOf(state);
}
