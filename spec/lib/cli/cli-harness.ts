// Running the compiled apartment-proxygen as a user would, and paths of the spec fixtures.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (specs run from dist/spec/lib/cli). */
export const repo = fileURLToPath(new URL('../../../../', import.meta.url));
export const cli = `${repo}dist/lib/cli/proxygen.js`;
export const fixtures = `${repo}spec/fixtures/proxygen/`;

/** Run the CLI with `args`; returns status, stdout and stderr. */
export function runCli(args: string[]): SpawnSyncReturns<string> {
  // Bounded so a hung CLI fails the spec, but well past what TypeScript takes on a loaded machine.
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 150_000, cwd: repo });
}
