// A worker apartment loads modules the way its host does. Workers inherit the host's Node flags, so
// an `--import` registration script runs again in every worker and registers its hooks there. tsx,
// the common TypeScript loader, is the exception: on Node versions without
// `worker_threads.isInternalThread` it deliberately skips worker threads, and a plugin written in
// TypeScript then fails with "Unknown file extension .ts". On those versions this module registers
// tsx in the worker through tsx's own API (its hooks module refuses a bare module.register()).
// Owned by the worker's composition root (worker-main.ts).
import * as threads from 'node:worker_threads';

/** The module names given to `--import` in a Node argument list. */
export function importedModules(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    if (arg === '--import' && i + 1 < execArgv.length) out.push(execArgv[++i]!);
    else if (arg.startsWith('--import=')) out.push(arg.slice('--import='.length));
  }
  return out;
}

/** Whether an `--import` names tsx's loader (`--import tsx`, or the path tsx's CLI passes). */
export function isTsxLoader(specifier: string): boolean {
  return specifier === 'tsx' || specifier === 'tsx/esm' || /\/tsx\/dist\/(loader|esm\/index)\.mjs$/.test(specifier);
}

/** Where tsx's registration API lives, next to the loader the host imported. */
function tsxApi(specifier: string): URL {
  if (specifier.startsWith('file:')) return new URL(specifier.endsWith('/loader.mjs') ? './esm/api/index.mjs' : './api/index.mjs', specifier);
  // node:module and node:url only here, not at import: every worker apartment loads this module.
  const { createRequire } = process.getBuiltinModule('node:module');
  const { pathToFileURL } = process.getBuiltinModule('node:url');
  const manifest = createRequire(pathToFileURL(`${process.cwd()}/`)).resolve('tsx/package.json');
  return new URL('./dist/esm/api/index.mjs', pathToFileURL(manifest));
}

/** Register, in this worker, the host's TypeScript loader where it would not register itself. */
export async function inheritHostLoaders(execArgv: readonly string[] = process.execArgv): Promise<void> {
  if ('isInternalThread' in threads) return;
  const tsx = importedModules(execArgv).find(isTsxLoader);
  if (tsx === undefined) return;
  const api = (await import(tsxApi(tsx).href)) as { register(): unknown };
  api.register();
}
