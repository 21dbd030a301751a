// What a script engine holds besides its realm, and what of it a clone or a move carries: its
// script text and its named items (ScriptEngine.#payload). Types only.
import type vm from 'node:vm';

/** A block of script text the engine holds, compiled once. */
export interface CodeBlock {
  text: string;
  script: vm.Script;
  persistent: boolean;
  /** The time limit it was added with; it applies whenever the block runs (now, or at start). */
  timeoutMs: number | undefined;
}

/** A named item the engine holds: a host value scripts see under its name. */
export interface Item {
  value: unknown;
  persistent: boolean;
}

/** What a clone (the persistent part) or a move (everything) carries to the receiving apartment. */
export interface EnginePayload {
  code: { text: string; persistent: boolean; timeoutMs: number | undefined }[];
  items: [name: string, value: unknown, persistent: boolean][];
}
