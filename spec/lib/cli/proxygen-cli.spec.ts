import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, fixtures, repo, runCli } from './cli-harness.js';

const RUNTIME = ['--runtime-import', '../../../../lib/index.js'];

describe('lib/cli: apartment-proxygen keeps checked-in output fresh', function () {
  // Every test runs the CLI, and with it TypeScript's compiler, in a child process: seconds on a
  // quiet machine, several times that on a loaded one. Nothing here measures speed.
  this.timeout(180_000);
  it('--check passes on the generated files in the repository', () => {
    const run = runCli([`${fixtures}calc-api.ts`, '--out', `${fixtures}generated`, ...RUNTIME, '--check']);
    expect(run.status, run.stderr).to.equal(0);
  });

  it('--check passes on the demo plugins\' generated proxies', () => {
    const run = runCli(['docs/demos/plugin-host/plugin-interfaces.ts', '--out', 'docs/demos/plugin-host/generated', '--check']);
    expect(run.status, run.stderr).to.equal(0);
  });

  it('--check passes on the script engine\'s generated interface and the script demo\'s', () => {
    const engine = runCli(['lib/script-engine/script-engine-api.ts', '--out', 'lib/script-engine/generated', '--runtime-import', '../../proxygen-support.js', '--check']);
    expect(engine.status, engine.stderr).to.equal(0);
    const editor = runCli(['docs/demos/script-engine/editor-api.ts', '--out', 'docs/demos/script-engine/generated', '--check']);
    expect(editor.status, editor.stderr).to.equal(0);
  });

  it('--check exits 1 and names a stale file', () => {
    const out = mkdtempSync(join(tmpdir(), 'proxygen-'));
    expect(runCli([`${fixtures}calc-api.ts`, '--out', out, ...RUNTIME, '--check']).status, 'missing output is stale').to.equal(1);
    expect(runCli([`${fixtures}calc-api.ts`, '--out', out, ...RUNTIME]).status).to.equal(0);
    expect(runCli([`${fixtures}calc-api.ts`, '--out', out, ...RUNTIME, '--check']).status).to.equal(0);
    writeFileSync(join(out, 'calc-api.remote.ts'), '// edited by hand\n');
    const run = runCli([`${fixtures}calc-api.ts`, '--out', out, ...RUNTIME, '--check']);
    expect(run.status).to.equal(1);
    expect(run.stderr).to.contain('stale:').and.contain('calc-api.remote.ts');
  });

  it('--check reports, and generation removes, the output of an input that lost its @remote tags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxygen-'));
    const out = join(dir, 'generated');
    const src = join(dir, 'api.ts');
    const handWritten = join(out, 'notes.remote.ts');
    writeFileSync(src, '/** @remote */\nexport interface Api {\n  one(): number;\n}\n');
    writeFileSync(join(dir, 'notes.ts'), 'export interface Notes {\n  one(): number;\n}\n');
    expect(runCli([src, '--out', out]).status).to.equal(0);
    writeFileSync(handWritten, '// written by hand, not generated\n');
    writeFileSync(src, 'export interface Api {\n  one(): number;\n}\n');
    const check = runCli([src, join(dir, 'notes.ts'), '--out', out, '--check']);
    expect(check.status).to.equal(1);
    expect(check.stderr).to.contain(`orphaned: ${join(out, 'api.remote.ts')}`).and.not.contain('notes.remote.ts');
    expect(runCli([src, join(dir, 'notes.ts'), '--out', out]).status).to.equal(0);
    expect(existsSync(join(out, 'api.remote.ts'))).to.equal(false);
    expect(readFileSync(handWritten, 'utf8'), 'a file it did not generate is left alone').to.equal('// written by hand, not generated\n');
    expect(runCli([src, join(dir, 'notes.ts'), '--out', out, '--check']).status).to.equal(0);
  });

  it('orders interfaces and properties by code unit, not by locale', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxygen-'));
    const src = join(dir, 'order.ts');
    writeFileSync(src, '/** @remote */\nexport interface beta {\n  b(o: { b: number; a: number; C: number; _: number }): void;\n}\n/** @remote */\nexport interface Zeta {\n  z(): void;\n}\n');
    const run = spawnSync(process.execPath, [cli, src, '--out', dir], { encoding: 'utf8', env: { ...process.env, LANG: 'sv_SE.UTF-8', LC_ALL: 'sv_SE.UTF-8' } });
    expect(run.status, run.stderr).to.equal(0);
    const text = readFileSync(join(dir, 'order.remote.ts'), 'utf8');
    expect(text.indexOf('export const ZetaManifest')).to.be.lessThan(text.indexOf('export const betaManifest'));
    const props = [...text.matchAll(/^ {16}name: "(\w+)"/gm)].map((m) => m[1]);
    expect(props).to.deep.equal(['C', '_', 'a', 'b']);
  });

  it('writes byte-identical output on every run (and expands globs)', () => {
    const a = mkdtempSync(join(tmpdir(), 'proxygen-'));
    const b = mkdtempSync(join(tmpdir(), 'proxygen-'));
    expect(runCli(['spec/fixtures/proxygen/calc-*.ts', '--out', a, ...RUNTIME]).status).to.equal(0);
    expect(runCli([`${fixtures}calc-api.ts`, '--out', b, ...RUNTIME]).status).to.equal(0);
    expect(readFileSync(join(a, 'calc-api.remote.ts'), 'utf8')).to.equal(readFileSync(join(b, 'calc-api.remote.ts'), 'utf8'));
  });

  it('generates an unmarked interface named with --interface', () => {
    const out = mkdtempSync(join(tmpdir(), 'proxygen-'));
    expect(runCli([`${fixtures}calc-api.ts`, '--out', out, '--interface', 'Unmarked']).status).to.equal(0);
    expect(readFileSync(join(out, 'calc-api.remote.ts'), 'utf8')).to.contain('export class UnmarkedProxy');
  });
});

describe('lib/cli: apartment-proxygen errors and exit codes', function () {
  // Every test runs the CLI, and with it TypeScript's compiler, in a child process: seconds on a
  // quiet machine, several times that on a loaded one. Nothing here measures speed.
  this.timeout(180_000);
  it('refuses unsupported constructs with file:line:col and exit 2', () => {
    const run = runCli([`${fixtures}bad-api.ts`, '--out', mkdtempSync(join(tmpdir(), 'proxygen-'))]);
    expect(run.status).to.equal(2);
    const lines = run.stderr.trim().split('\n');
    const expected = [
      ':6:3: interface BadApi: overloads of \'twice\'',
      ':7:3: interface BadApi: generic method \'generic\'',
      ':8:3: interface BadApi: index signatures are not supported',
      ':9:3: interface BadApi: only methods are remotable; \'value\' is not a method',
      ':10:3: interface BadApi: accessors are not remotable',
      ':14:1: interface BadGeneric: generic interfaces are not supported',
      ':20:10: BadParameters.spread: rest parameter \'pair\' must be a plain array',
      ':21:10: BadParameters.unpack: destructured parameters are not supported',
      ':22:3: interface BadParameters: method names must be plain identifiers',
      ':23:3: interface BadParameters: method names must be plain identifiers',
    ];
    expect(lines).to.have.length(expected.length);
    expected.forEach((text, i) => expect(lines[i]).to.contain(`bad-api.ts${text}`));
  });

  it('exits 1 when --out names a file, not a directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxygen-'));
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const run = runCli([`${fixtures}calc-api.ts`, '--out', file, ...RUNTIME]);
    expect(run.status).to.equal(1);
    expect(run.stderr).to.contain('cannot write').and.contain('not-a-dir');
  });

  for (const [args, why] of [
    [['--bogus', 'x.ts', '--out', 'o'], 'unknown option --bogus'],
    [[`${fixtures}calc-api.ts`], '--out <dir> is required'],
    [['--out', 'o'], 'no input files'],
    [[`${fixtures}calc-api.ts`, '--out'], '--out needs a value'],
  ] as const) {
    it(`exits 2 with usage for: ${why}`, () => {
      const run = runCli([...args]);
      expect(run.status).to.equal(2);
      expect(run.stderr).to.contain(why).and.contain('usage: apartment-proxygen');
    });
  }

  it('exits 1 on an input it cannot read', () => {
    const run = runCli([`${fixtures}no-such-file.ts`, '--out', mkdtempSync(join(tmpdir(), 'proxygen-'))]);
    expect(run.status).to.equal(1);
    expect(run.stderr).to.contain('cannot read');
  });

  it('prints help and its version', () => {
    const help = runCli(['--help']);
    expect(help.status).to.equal(0);
    expect(help.stdout).to.contain('--check').and.contain('exit codes');
    const version = runCli(['--version']);
    expect(version.status).to.equal(0);
    expect(version.stdout.trim()).to.equal(JSON.parse(readFileSync(`${repo}package.json`, 'utf8')).version);
  });

  it('--watch regenerates on change until interrupted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxygen-'));
    const src = join(dir, 'api.ts');
    writeFileSync(src, '/** @remote */\nexport interface Api {\n  one(): number;\n}\n');
    const child = spawn(process.execPath, [cli, src, '--out', dir, '--watch'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // No short limit: the CLI starts slowly on a loaded machine, and the spec's hang guard ends a real hang.
    const waitFor = async (text: string): Promise<void> => {
      while (!out.includes(text) && child.exitCode === null) await new Promise((r) => setTimeout(r, 25));
    };
    await waitFor('watching');
    writeFileSync(src, '/** @remote */\nexport interface Api {\n  one(): number;\n  two(): number;\n}\n');
    await waitFor('regenerated');
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(out).to.contain('regenerated (ok)');
    expect(readFileSync(join(dir, 'api.remote.ts'), 'utf8')).to.contain('two(...args');
    expect(code).to.equal(0);
  });
});
