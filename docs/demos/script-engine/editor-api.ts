// The editor's remoting interface, compiled by apartment-proxygen into generated/editor-api.remote.ts.

/**
 * An apartment that pokes at the host's script engine. `engine` is the engine's reference (the
 * proxy createObject returned): the editor binds it to ScriptEngineApi itself, or hands it to
 * interruptScript(), which needs the reference rather than a bound interface.
 * @remote
 */
export interface EditorApi {
  tryToUse(engine: object): Promise<string>;
  state(engine: object): Promise<string>;
  stop(engine: object): Promise<boolean>;
}
