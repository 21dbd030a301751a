// Running the compiled apartment-proxygen as a user would, and paths of the spec fixtures.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (specs run from dist/spec/lib/cli). */
export const repo = fileURLToPath(new URL('../../../../', import.meta.url));
export const cli = `${repo}dist/lib/cli/proxygen.js`;
export const fixtures = `${repo}spec/fixtures/proxygen/`;

/** Run the CLI with `args`; returns status, stdout and stderr. No time limit of its own: the spec's applies. */
export function runCli(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: repo });
}
