// The script engine's remoting interface (COM's IActiveScript and IActiveScriptParse): every method
// another apartment may call on a ScriptEngine, compiled by apartment-proxygen into
// generated/script-engine-api.remote.ts. ScriptEngine declares it (static remoteInterface), so its
// calls are dispatched through the generated stub and their arguments checked before the engine is
// touched. Values scripts receive or return are arbitrary, so they are typed unknown.

/** The engine's states (COM's SCRIPTSTATE). */
export type ScriptState = 'uninitialized' | 'initialized' | 'started' | 'connected' | 'disconnected' | 'closed';

/** Options of parseScriptText() and invoke(). */
export interface ScriptRunOptions {
  /** Kept across reset() and carried by clone(). */
  persistent?: boolean;
  /** Time limit of the call (synchronous code is stopped by V8; asynchronous code is abandoned). */
  timeoutMs?: number;
}

/**
 * A script engine, as seen from other apartments.
 * @remote
 */
export interface ScriptEngineApi {
  getState(): ScriptState;
  setSite(site: object): void;
  addNamedItem(name: string, value: unknown, options?: { persistent?: boolean }): void;
  parseScriptText(text: string, options?: ScriptRunOptions): Promise<unknown>;
  setState(next: ScriptState): Promise<void>;
  getSite(): unknown;
  invoke(name: string, ...args: unknown[]): Promise<unknown>;
  invokeWithin(timeoutMs: number | undefined, name: string, ...args: unknown[]): Promise<unknown>;
  /** Travels by value the first time it crosses: the caller gets a local engine. */
  clone(): ScriptEngineApi;
  /** The caller gets a local engine (or this one, when it already lives there). */
  move(): ScriptEngineApi;
  close(): void;
}
