// The script engine's remoting interface (COM's IActiveScript and IActiveScriptParse): every method
// another apartment may call on a ScriptEngine, compiled by apartment-proxygen into
// generated/script-engine-api.remote.ts. ScriptEngine declares it (static remoteInterface), so its
// calls are dispatched through the generated stub and their arguments checked before the engine is
// touched. Values scripts receive or return are arbitrary, so they are typed unknown.
import type { ScriptEngine, ScriptRunOptions, ScriptState } from './script-engine.js';

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
  clone(): ScriptEngine;
  /** The caller gets a local engine (or this one, when it already lives there). */
  move(): ScriptEngine;
  close(): void;
}
