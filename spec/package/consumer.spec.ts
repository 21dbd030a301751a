// The package as a user gets it: packed with `npm pack`, installed from the tarball into a fresh
// project (offline, from the npm cache), compiled with the user's compiler settings, run compiled,
// under a TypeScript loader and bundled. Slow by nature (it runs npm, tsc and esbuild), so its
// timeout is a hang guard only.
import { expect } from 'chai';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { consumerLockfile, packedFiles } from './consumer-lockfile.js';

/** The repository root (this spec runs from dist/spec/package). */
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const appSources = join(repo, 'spec/package/consumer-app/src');
/** Tools the consumer project uses, linked from the repository's own dev dependencies. */
const TOOLS = ['typescript', 'tsx', 'esbuild', '@types/node'];

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
}

function report(r: SpawnSyncReturns<string>): string {
  return `exit ${String(r.status)}${r.error ? ` (${r.error.message})` : ''}\n${r.stdout}\n${r.stderr}`;
}

describe('package: installed from its tarball into a user\'s project', function () {
  this.timeout(900_000);
  let work: string;
  let app: string;
  let files: string[];

  before(() => {
    expect(existsSync(join(repo, 'dist/lib/index.d.ts')), 'declarations missing: run `npm run typecheck` (npm test does) before this spec').to.equal(true);
    work = mkdtempSync(join(tmpdir(), 'apartment-consumer-'));
    // The build already ran (npm test builds and emits declarations first), so pack without
    // prepack: rebuilding would delete the dist/ the other specs run from.
    const pack = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], repo);
    expect(pack.status, report(pack)).to.equal(0);
    const packed = packedFiles(pack.stdout);
    files = packed.files;
    app = join(work, 'app');
    mkdirSync(app);
    const tarball = join(work, packed.filename);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true, type: 'module', dependencies: { 'apartment-runtime': `file:${tarball}` } }, null, 2));
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify(consumerLockfile(repo, tarball), null, 2));
    const install = run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], app);
    expect(install.status, report(install)).to.equal(0);
    cpSync(appSources, join(app, 'src'), { recursive: true });
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the tarball holds the runtime, its declarations and the CLI, and no specs, sources or maps', () => {
    expect(files).to.include.members(['package.json', 'README.md', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/worker-main.js', 'dist/lib/cli/proxygen.js']);
    expect(files.filter((f) => /(^|\/)spec\/|\.spec\.|^\.ci\/|^docs\/|\.map$/.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).to.deep.equal([]);
  });

  it('installing the runtime does not install a TypeScript compiler (an optional peer of the CLI)', () => {
    expect(existsSync(join(app, 'node_modules/typescript'))).to.equal(false);
    const help = run('npx', ['--no-install', 'apartment-proxygen', '--help'], app);
    expect(help.status, report(help)).to.equal(0);
    expect(help.stdout).to.match(/usage/i);
    writeFileSync(join(app, 'src/api.ts'), '/** @remote */\nexport interface Api { ping(): string }\n');
    const generate = run('npx', ['--no-install', 'apartment-proxygen', 'src/api.ts', '--out', 'generated'], app);
    rmSync(join(app, 'src/api.ts'));
    expect(generate.status, report(generate)).to.equal(1);
    expect(generate.stderr).to.contain("needs the 'typescript' package").and.contain('npm install --save-dev typescript');
  });

  describe('with the user\'s tools installed', () => {
    before(() => {
      mkdirSync(join(app, 'node_modules/@types'), { recursive: true });
      for (const tool of TOOLS) symlinkSync(join(repo, 'node_modules', tool), join(app, 'node_modules', tool), 'dir');
    });

    const SETTINGS: Record<string, Record<string, unknown>> = {
      'strict + nodenext': { module: 'nodenext', moduleResolution: 'nodenext' },
      'strict + bundler': { module: 'esnext', moduleResolution: 'bundler' },
      'exactOptionalPropertyTypes and friends': {
        module: 'nodenext', moduleResolution: 'nodenext', exactOptionalPropertyTypes: true, noPropertyAccessFromIndexSignature: true,
        noUncheckedIndexedAccess: true, erasableSyntaxOnly: true, verbatimModuleSyntax: true,
      },
    };
    for (const [name, options] of Object.entries(SETTINGS)) {
      it(`a host compiles with zero errors under ${name}, no lib override, no skipLibCheck`, () => {
        const config = `tsconfig.${name.replace(/\W+/g, '-')}.json`;
        writeFileSync(join(app, config), JSON.stringify({
          compilerOptions: { strict: true, target: 'es2022', types: ['node'], skipLibCheck: false, noEmit: true, ...options },
          include: ['src'],
        }));
        const tsc = run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', config], app);
        expect(tsc.status, report(tsc)).to.equal(0);
      });
    }

    it('the compiled host runs', () => {
      const tsc = run(process.execPath, ['node_modules/typescript/bin/tsc', 'src/host.ts', 'src/calc.ts', '--outDir', 'build', '--rootDir', 'src',
        '--strict', '--module', 'nodenext', '--target', 'es2022', '--types', 'node'], app);
      expect(tsc.status, report(tsc)).to.equal(0);
      const host = run(process.execPath, ['build/host.js'], app);
      expect(host.status, report(host)).to.equal(0);
      expect(host.stdout).to.contain('sum 42, 1 recorded');
    });

    it('a host run under tsx loads a plugin written in TypeScript in its worker apartment', () => {
      expect(existsSync(join(app, 'src/calc.js')), 'the plugin exists only as TypeScript').to.equal(false);
      const host = run(process.execPath, ['--import', 'tsx', 'src/host.ts'], app);
      expect(host.status, report(host)).to.equal(0);
      expect(host.stdout).to.contain('sum 42, 1 recorded');
    });

    it('a host bundled by esbuild, with the worker entry as its own entry point, runs away from node_modules', async () => {
      await build({
        absWorkingDir: app,
        entryPoints: { host: 'src/host.ts', calc: 'src/calc.ts', 'worker-main': 'apartment-runtime/worker' },
        bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20', outdir: 'bundle', logLevel: 'silent',
      });
      const elsewhere = join(work, 'deployed');
      cpSync(join(app, 'bundle'), elsewhere, { recursive: true });
      writeFileSync(join(elsewhere, 'package.json'), JSON.stringify({ type: 'module' }));
      const host = run(process.execPath, ['host.js'], elsewhere);
      expect(host.status, report(host)).to.equal(0);
      expect(host.stdout).to.contain('sum 42, 1 recorded');
    });
  });
});
