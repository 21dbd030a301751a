// What a thread knows of the script engine before the engine's module is loaded: the key an engine's
// copy travels under, and how an interrupted engine is settled. A thread loads the engine's module
// (and its engine file, dist/lib/apartment-engine-scripts.js) only once it makes or receives an
// engine, so the module installs the settling when it loads; until then the thread holds no engine
// to settle. Per thread; the first installation stays (owner: lib/script-engine/script-engine.ts).

/** The value-type key of an engine's copy (script-engine.ts registers its rebuilder under it). */
export const ENGINE_COPY = 'script-engine-copy';

let settle: ((object: unknown, generation: number) => boolean) | undefined;

/** Install how interrupted engines are settled in this thread (the engine module does, once). */
export function settleInterruptedWith(settleEngine: (object: unknown, generation: number) => boolean): void {
  settle ??= settleEngine;
}

/** Settle the interrupted call(s) of `object` if it is an engine (generation 0: the calls awaiting); false otherwise. */
export function settleInterrupted(object: unknown, generation: number): boolean {
  return settle?.(object, generation) ?? false;
}
