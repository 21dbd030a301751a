// The exit codes with which the runtime ends a thread (or a process apartment's process) on
// purpose, because going on would be worse, and what each means: hosts put the meaning in the
// fault, so the apartment's callers learn why. Immutable.

/** Exit codes the runtime ends a thread with on purpose. */
export const ThreadExit = {
  /**
   * A stop (a time limit) landed in a promise job while async_hooks' promise hooks were on, which
   * leaves Node's async id stack broken: returning to Node would abort the whole process.
   */
  BrokenAsyncStack: 75,
} as const;

const MEANINGS: Readonly<Record<number, string>> = {
  [ThreadExit.BrokenAsyncStack]: "[script-async-stack] a time limit stopped a script's promise job while async_hooks were on in the thread (something enabled them after its script engine started), which leaves Node's async id stack broken, so the thread was ended instead of letting Node abort the process; enable async_hooks before script engines start, or run engines in an apartment where nothing enables them",
};

/** What exit code `code` means when the runtime ended a thread with it on purpose, or undefined. */
export function threadExitMeaning(code: number | null): string | undefined {
  return code === null ? undefined : MEANINGS[code];
}
