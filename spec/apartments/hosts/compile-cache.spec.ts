import { expect } from 'chai';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CacheView {
  directory: string | null;
  env: string | null;
}
interface Report {
  host: CacheView;
  thread: CacheView;
  process: CacheView;
}

/** Run the fixture host in a process of its own and take its report. */
function runHost(cacheDir: string): Promise<Report> {
  const child = fork(fileURLToPath(new URL('../../fixtures/compile-cache-host.js', import.meta.url)), [cacheDir], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // This process's own cache setting must not decide the outcome.
    env: Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_COMPILE_CACHE')),
  });
  return new Promise((resolve, reject) => {
    let report: Report | undefined;
    child.once('message', (m) => (report = m as Report));
    child.once('error', reject);
    child.once('exit', (code) => (report && code === 0 ? resolve(report) : reject(new Error(`[spec] the compile-cache host exited with code ${code} and ${report ? 'a' : 'no'} report`))));
  });
}

describe('apartments/hosts: the threads and processes a host starts share its compile cache', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('gives apartments the cache directory the host turned on through the API, and none to a host without one', async () => {
    dir = mkdtempSync(join(tmpdir(), 'compile-cache-'));
    const report = await runHost(dir);
    const hasApi = typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function';
    if (hasApi) {
      // Node 22.1+: the host turned the cache on through the API (nothing in its environment), and both
      // kinds of apartment compile through the directory it uses (a subdirectory of `dir` per Node version).
      const inUse = report.host.directory;
      expect(inUse).to.be.a('string').and.satisfy((d: string) => d === dir || d.startsWith(`${dir}/`));
      expect(report.host.env).to.equal(null);
      expect(report.thread).to.deep.equal({ directory: inUse, env: dir });
      expect(report.process).to.deep.equal({ directory: inUse, env: dir });
    } else {
      // Node 20 has no compile cache: apartments start with the host's environment, unchanged.
      expect(report).to.deep.equal({ host: { directory: null, env: null }, thread: { directory: null, env: null }, process: { directory: null, env: null } });
    }
  });
});
