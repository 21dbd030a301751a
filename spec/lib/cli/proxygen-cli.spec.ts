import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, fixtures, repo, runCli } from './cli-harness.js';

const RUNTIME = ['--runtime-import', '../../../../lib/index.js'];

describe('lib/cli: apartment-proxygen keeps checked-in output fresh', () => {
  it('--check passes on the generated files in the repository', () => {
    const run = runCli([`${fixtures}calc-api.ts`, '--out', `${fixtures}generated`, ...RUNTIME, '--check']);
    expect(run.status, run.stderr).to.equal(0);
  });

  it('--check passes on the demo plugins\' generated proxies', () => {
    const run = runCli(['docs/demos/plugin-host/plugin-interfaces.ts', '--out', 'docs/demos/plugin-host/generated', '--check']);
    expect(run.status, run.stderr).to.equal(0);
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

describe('lib/cli: apartment-proxygen errors and exit codes', () => {
  it('refuses unsupported constructs with file:line:col and exit 2', () => {
    const run = runCli([`${fixtures}bad-api.ts`, '--out', mkdtempSync(join(tmpdir(), 'proxygen-'))]);
    expect(run.status).to.equal(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines).to.have.length(5);
    for (const line of lines) expect(line).to.match(/bad-api\.ts:\d+:\d+: /);
    expect(run.stderr).to.contain(':6:3: interface BadApi: overloads of \'twice\'');
    expect(run.stderr).to.contain('generic method \'generic\'');
    expect(run.stderr).to.contain('index signatures are not supported');
    expect(run.stderr).to.contain('\'value\' is not a method');
    expect(run.stderr).to.contain('accessors are not remotable');
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
    const waitFor = async (text: string): Promise<void> => {
      for (let i = 0; i < 200 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 25));
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
