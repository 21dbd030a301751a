import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, fixtures, repo, runCli } from './cli-harness.js';

const RUNTIME = ['--runtime-import', '../../../../lib/index.js'];
const tmp = (): string => mkdtempSync(join(tmpdir(), 'proxygen-'));

describe('lib/cli: apartment-proxygen keeps checked-in output fresh', function () {
  // Each case starts the CLI (and the compiler) in a child process: slow on a busy machine.
  this.timeout(10 * 60_000);

  it('--check passes on the generated files in the repository', () => {
    for (const args of [
      [`${fixtures}calc-api.ts`, '--out', `${fixtures}generated`, ...RUNTIME],
      [`${fixtures}constructs-api.ts`, '--out', `${fixtures}generated`, ...RUNTIME],
      [`${fixtures}lsp-api.ts`, '--out', `${fixtures}generated`, ...RUNTIME],
      [`${fixtures}stream-api.ts`, '--out', `${fixtures}generated`, ...RUNTIME],
      ['docs/demos/plugin-host/plugin-interfaces.ts', '--out', 'docs/demos/plugin-host/generated'],
      ['lib/script-engine/script-engine-api.ts', '--out', 'lib/script-engine/generated', '--runtime-import', '../../proxygen-support.js'],
      ['docs/demos/script-engine/editor-api.ts', '--out', 'docs/demos/script-engine/generated'],
    ]) {
      const run = runCli([...args, '--check']);
      expect(run.status, `${args[0]}: ${run.stderr}`).to.equal(0);
      expect(run.stdout).to.match(/^apartment-proxygen: 1 generated file\(s\) up to date/);
    }
  });

  it('--check says "missing" for absent output and "stale" for changed output, and exits 1', () => {
    const out = tmp();
    const missing = runCli([`${fixtures}calc-api.ts`, '--out', out, ...RUNTIME, '--check']);
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.contain(`missing: ${join(out, 'calc-api.remote.ts')}`);
    const written = runCli([`${fixtures}calc-api.ts`, `--out=${out}`, ...RUNTIME]);
    expect(written.status).to.equal(0);
    expect(written.stdout.trim().split('\n'), 'one summary line').to.deep.equal(['apartment-proxygen: 2 interface(s), 10 member(s) from 1 file(s): 1 written, 0 unchanged']);
    expect(runCli([`${fixtures}calc-api.ts`, '--out', out, ...RUNTIME, '--check']).status).to.equal(0);
    writeFileSync(join(out, 'calc-api.remote.ts'), '// edited by hand\n');
    const stale = runCli([`${fixtures}calc-api.ts`, '--out', out, ...RUNTIME, '--check']);
    expect(stale.status).to.equal(1);
    expect(stale.stderr).to.contain(`stale: ${join(out, 'calc-api.remote.ts')}`);
  });

  it('--check reports, and generation removes, the output of an input that lost its @remote tags', () => {
    const dir = tmp();
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
    const run = runCli([src, join(dir, 'notes.ts'), '--out', out]);
    expect(run.status).to.equal(0);
    expect(run.stdout).to.contain('1 removed');
    expect(existsSync(join(out, 'api.remote.ts'))).to.equal(false);
    expect(readFileSync(handWritten, 'utf8'), 'a file it did not generate is left alone').to.equal('// written by hand, not generated\n');
    expect(runCli([src, join(dir, 'notes.ts'), '--out', out, '--check']).status).to.equal(0);
  });

  it('orders interfaces and properties by code unit, not by locale', () => {
    const dir = tmp();
    const src = join(dir, 'order.ts');
    writeFileSync(src, '/** @remote */\nexport interface beta {\n  b(o: { b: number; a: number; C: number; _: number }): void;\n}\n/** @remote */\nexport interface Zeta {\n  z(): void;\n}\n');
    const run = spawnSync(process.execPath, [cli, src, '--out', dir], { encoding: 'utf8', env: { ...process.env, LANG: 'sv_SE.UTF-8', LC_ALL: 'sv_SE.UTF-8' } });
    expect(run.status, run.stderr).to.equal(0);
    const text = readFileSync(join(dir, 'order.remote.ts'), 'utf8');
    expect(text.indexOf('export const ZetaManifest')).to.be.lessThan(text.indexOf('export const betaManifest'));
    const props = [...text.matchAll(/return \$rt\.at\(r, "(\w+)"\)/g)].map((m) => m[1]);
    expect(props).to.deep.equal(['C', '_', 'a', 'b']);
  });

  it('writes byte-identical output on every run, whatever else is on the command line (and expands globs)', () => {
    const a = tmp();
    const b = tmp();
    expect(runCli(['spec/fixtures/proxygen/c*-api.ts', '--out', a, ...RUNTIME]).status).to.equal(0);
    expect(runCli([`${fixtures}calc-api.ts`, '--out', b, ...RUNTIME]).status).to.equal(0);
    expect(readFileSync(join(a, 'calc-api.remote.ts'), 'utf8')).to.equal(readFileSync(join(b, 'calc-api.remote.ts'), 'utf8'));
  });

  it('generates an unmarked interface named with --interface (also as --interface=Name), listing it with -v', () => {
    const out = tmp();
    const run = runCli([`${fixtures}calc-api.ts`, '--out', out, '--interface=Unmarked', '-v']);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/Unmarked \(apartment-runtime\/spec\/fixtures\/proxygen\/calc-api#Unmarked, version [0-9a-f]{16}\): 1 member\(s\)/);
    expect(readFileSync(join(out, 'calc-api.remote.ts'), 'utf8')).to.contain('export class UnmarkedProxy');
  });
});

describe('lib/cli: apartment-proxygen inputs: .mts, declaration files, namespaces, declare module, type aliases', function () {
  this.timeout(10 * 60_000);

  it('reads interfaces from .mts and .d.ts files, inside namespaces and declare module blocks, and object type aliases', () => {
    const dir = tmp();
    const out = join(dir, 'generated');
    writeFileSync(join(dir, 'events.mts'), '/** @remote */\nexport type Events = { fire(name: string): void };\n');
    writeFileSync(join(dir, 'host.d.ts'), [
      'export declare namespace Tools {',
      '  /** @remote */',
      '  interface Hammer { hit(times: number): boolean; }',
      '}',
      '',
    ].join('\n'));
    writeFileSync(join(dir, 'ambient.d.ts'), 'declare module "ambient-tools" {\n  /** @remote */\n  export interface Saw { cut(length: number): void; }\n}\n');
    const run = runCli([join(dir, 'events.mts'), join(dir, 'host.d.ts'), join(dir, 'ambient.d.ts'), '--out', out]);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.contain('3 interface(s), 3 member(s) from 3 file(s): 3 written');
    expect(readFileSync(join(out, 'events.remote.mts'), 'utf8')).to.contain("import type * as $1 from '../events.mjs';").and.contain('export class EventsProxy');
    expect(readFileSync(join(out, 'host.remote.ts'), 'utf8')).to.contain('$StubTable<$1.Tools.Hammer>');
    expect(readFileSync(join(out, 'ambient.remote.ts'), 'utf8')).to.contain("import type * as $1 from 'ambient-tools';").and.contain('id: "ambient-tools#Saw"');
  });

  it('finds a namespaced interface by its qualified name', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'ns.ts'), 'export namespace A {\n  export interface Logger { log(m: string): void; }\n}\nexport namespace B {\n  export interface Logger { log(m: number): void; }\n}\n');
    const run = runCli([join(dir, 'ns.ts'), '--out', dir, '--interface', 'B.Logger']);
    expect(run.status, run.stderr).to.equal(0);
    expect(readFileSync(join(dir, 'ns.remote.ts'), 'utf8')).to.contain('$1.B.Logger').and.not.contain('$1.A.Logger');
  });
});

describe('lib/cli: apartment-proxygen errors and exit codes', function () {
  this.timeout(10 * 60_000);

  it('exits 2 for every name that matched nothing, and writes nothing', () => {
    const out = join(tmp(), 'generated');
    const run = runCli([`${fixtures}calc-api.ts`, '--out', out, ...RUNTIME, '--interface', 'NoSuchThing', '--interface', 'Calc.Api']);
    expect(run.status).to.equal(2);
    expect(run.stderr).to.contain('--interface NoSuchThing: no interface').and.contain('--interface Calc.Api: no interface');
    expect(existsSync(out)).to.equal(false);
  });

  it('exits 2 when a glob matches nothing, and 1 when an input cannot be read', () => {
    const glob = runCli(['spec/fixtures/proxygen/nothing-*.ts', '--out', tmp()]);
    expect(glob.status).to.equal(2);
    expect(glob.stderr).to.contain('no input file matched spec/fixtures/proxygen/nothing-*.ts');
    const missing = runCli([`${fixtures}no-such-file.ts`, '--out', tmp()]);
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.contain('cannot read');
  });

  it('exits 2 when two inputs would write the same output', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    for (const d of ['a', 'b']) writeFileSync(join(dir, d, 'api.ts'), '/** @remote */\nexport interface Api { one(): number; }\n');
    const run = runCli([join(dir, 'a/api.ts'), join(dir, 'b/api.ts'), '--out', dir]);
    expect(run.status).to.equal(2);
    expect(run.stderr).to.contain('would both generate');
  });

  it('exits 1 when --out names a file, not a directory', () => {
    const dir = tmp();
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
    [[`${fixtures}calc-api.ts`, '--out='], '--out needs a value'],
    [[`${fixtures}calc-api.ts`, '--out', 'o', '--check=yes'], '--check takes no value'],
  ] as const) {
    it(`exits 2 with usage for: ${why}`, () => {
      const run = runCli([...args]);
      expect(run.status).to.equal(2);
      expect(run.stderr).to.contain(why).and.contain('usage: apartment-proxygen');
    });
  }

  it('prints help and its version', () => {
    const help = runCli(['--help']);
    expect(help.status).to.equal(0);
    expect(help.stdout).to.contain('--check').and.contain('exit codes').and.contain('--verbose');
    const version = runCli(['--version']);
    expect(version.status).to.equal(0);
    expect(version.stdout.trim()).to.equal(JSON.parse(readFileSync(`${repo}package.json`, 'utf8')).version);
  });
});

describe('lib/cli: apartment-proxygen --watch', function () {
  this.timeout(10 * 60_000);

  it('regenerates when an input or a file it imports changes, until interrupted', async () => {
    const dir = tmp();
    const src = join(dir, 'api.ts');
    const types = join(dir, 'types.ts');
    writeFileSync(types, 'export interface Point { x: number }\n');
    writeFileSync(src, "import type { Point } from './types.js';\n/** @remote */\nexport interface Api {\n  one(p: Point): number;\n}\n");
    const child = spawn(process.execPath, [cli, src, '--out', dir, '--watch'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    // Waits for output, however long the machine takes; the spec's own timeout is the bound.
    const waitFor = async (text: string, times = 1): Promise<void> => {
      while (out.split(text).length - 1 < times) await new Promise((r) => setTimeout(r, 50));
    };
    await waitFor('watching 2 file(s)');
    writeFileSync(types, 'export interface Point { x: number; y: number }\n');
    await waitFor('regenerated (ok)');
    expect(readFileSync(join(dir, 'api.remote.ts'), 'utf8'), 'a change to an imported file regenerates').to.contain('return $rt.at(r, "y")');
    writeFileSync(src, "import type { Point } from './types.js';\n/** @remote */\nexport interface Api {\n  one(p: Point): number;\n  two(): number;\n}\n");
    await waitFor('regenerated (ok)', 2);
    child.kill('SIGINT');
    expect(await exited).to.equal(0);
    expect(readFileSync(join(dir, 'api.remote.ts'), 'utf8')).to.contain('two(): Promise<number>;');
  });
});
