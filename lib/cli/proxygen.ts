#!/usr/bin/env node
// apartment-proxygen: the runtime's interface compiler. argv → introspection → emission → files.
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, unlinkSync, watch, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emitFile, generatedHeader, outputName } from './emit.js';
import { formatProblem } from './ir.js';
import type { introspect as Introspect } from './introspect.js';
import { USAGE, UsageError, parseArgs, type CliOptions } from './args.js';

/** Expand `*` and `**` in a path pattern (Node 20 has no fs.glob). */
function expand(pattern: string): string[] {
  if (!/[*?]/.test(pattern)) return [resolve(pattern)];
  const parts = resolve(pattern).split('/');
  const firstWild = parts.findIndex((p) => /[*?]/.test(p));
  const base = parts.slice(0, firstWild).join('/') || '/';
  const re = new RegExp(`^${parts.slice(firstWild).join('/').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(?:.*/)?').replace(/\*\*/g, '.*').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const full = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(full).isDirectory()) walk(full, r);
      else if (re.test(r)) out.push(full);
    }
  };
  if (existsSync(base)) walk(base, '');
  return out;
}

// TypeScript is an optional peer dependency (runtime users need no compiler), so the introspector,
// the only module that imports it, loads once generation is asked for; --help works without it.
let introspect: typeof Introspect;

/** Load the introspector, or say how to install TypeScript; false when it is missing. */
async function loadIntrospector(): Promise<boolean> {
  try {
    ({ introspect } = await import('./introspect.js'));
    return true;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' || !String((err as Error).message).includes("'typescript'")) throw err;
    process.stderr.write("apartment-proxygen: needs the 'typescript' package (5.x or later) to read interfaces; install it beside apartment-runtime: npm install --save-dev typescript\n");
    return false;
  }
}

/** Generate once; returns the process exit code. */
function generate(options: CliOptions): number {
  const files = [...new Set(options.inputs.flatMap(expand))].filter((f) => f.endsWith('.ts') && !f.endsWith('.remote.ts'));
  for (const f of files) {
    if (!existsSync(f)) {
      process.stderr.write(`apartment-proxygen: cannot read ${f}\n`);
      return 1;
    }
  }
  if (files.length === 0) {
    process.stderr.write('apartment-proxygen: no input file matched\n');
    return 1;
  }
  const outDir = resolve(options.out!);
  const { files: irs, problems } = introspect({ files, names: options.interfaces, outDir });
  if (problems.length > 0) {
    for (const p of problems) process.stderr.write(`${formatProblem(p)}\n`);
    return 2;
  }
  const stale: string[] = [];
  const written = new Set<string>();
  for (const ir of irs) {
    const target = join(outDir, outputName(ir.source));
    written.add(ir.source);
    const text = emitFile(ir, options.runtimeImport);
    if (options.check) {
      if (!existsSync(target) || readFileSync(target, 'utf8') !== text) stale.push(`stale: ${target}`);
      continue;
    }
    try {
      mkdirSync(outDir, { recursive: true });
      if (!existsSync(target) || readFileSync(target, 'utf8') !== text) writeFileSync(target, text);
    } catch (err) {
      process.stderr.write(`apartment-proxygen: cannot write ${target}: ${(err as Error).message}\n`);
      return 1;
    }
  }
  // An input that no longer declares a remote interface leaves its old output behind: generation
  // removes it and --check reports it, but only a file this tool generated from that same input.
  for (const source of files.filter((f) => !written.has(f))) {
    const target = join(outDir, outputName(source));
    if (!isGeneratedFrom(target, source)) continue;
    if (options.check) {
      stale.push(`orphaned: ${target}`);
      continue;
    }
    try {
      unlinkSync(target);
    } catch (err) {
      process.stderr.write(`apartment-proxygen: cannot remove ${target}: ${(err as Error).message}\n`);
      return 1;
    }
  }
  if (stale.length > 0) {
    for (const s of stale) process.stderr.write(`${s}\n`);
    process.stderr.write('apartment-proxygen: generated files are stale or orphaned; run apartment-proxygen without --check\n');
    return 1;
  }
  return 0;
}

/** Whether `target` is a file apartment-proxygen generated from `source` (its first line says so). */
function isGeneratedFrom(target: string, source: string): boolean {
  let text: string;
  try {
    text = readFileSync(target, 'utf8');
  } catch {
    return false;
  }
  return text.slice(0, text.indexOf('\n')) === generatedHeader(source);
}

function version(): string {
  const pkg = join(dirname(fileURLToPath(import.meta.url)), '../../../package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

async function main(argv: string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`apartment-proxygen: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (!(await loadIntrospector())) return 1;
  const code = generate(options);
  if (!options.watch) return code;
  const inputs = [...new Set(options.inputs.flatMap(expand))];
  let timer: NodeJS.Timeout | undefined;
  const watchers = inputs.map((f) => watch(f, () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const c = generate(options);
      process.stdout.write(`apartment-proxygen: regenerated (${c === 0 ? 'ok' : `exit ${c}`})\n`);
    }, 50);
  }));
  process.stdout.write(`apartment-proxygen: watching ${inputs.length} file(s)\n`);
  process.once('SIGINT', () => {
    for (const w of watchers) w.close();
    clearTimeout(timer);
  });
  return -1;
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
