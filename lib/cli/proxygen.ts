#!/usr/bin/env node
// apartment-proxygen: the runtime's interface compiler. argv → generation (lib/cli/generate.ts),
// once, or again whenever a file it read changes (--watch).
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { USAGE, UsageError, parseArgs, type CliOptions } from './args.js';
import type { Generation, Streams } from './generate.js';

const io: Streams = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

function version(): string {
  const pkg = join(dirname(fileURLToPath(import.meta.url)), '../../../package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/** Regenerate whenever one of the files the last run read changes, following new imports as they appear. */
function watchAndRegenerate(options: CliOptions, first: readonly string[], generate: (o: CliOptions, io: Streams) => Generation): void {
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  const follow = (files: readonly string[]): void => {
    const wanted = new Set(files);
    for (const [f, w] of watchers) {
      if (!wanted.has(f)) {
        w.close();
        watchers.delete(f);
      }
    }
    for (const f of wanted) {
      if (watchers.has(f)) continue;
      try {
        watchers.set(f, watch(f, schedule));
      } catch {
        // A file that vanished between the run and now: the next run's list decides.
      }
    }
  };
  function schedule(): void {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const run = generate(options, io);
      io.out(`apartment-proxygen: regenerated (${run.code === 0 ? 'ok' : `exit ${run.code}`}); watching ${run.read.length || watchers.size} file(s)`);
      if (run.read.length > 0) follow(run.read);
    }, 50);
  }
  follow(first);
  io.out(`apartment-proxygen: watching ${watchers.size} file(s)`);
  process.once('SIGINT', () => {
    for (const w of watchers.values()) w.close();
    clearTimeout(timer);
  });
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
  // Loaded only now: the compiler takes a while to load, and usage errors, --help and --version do
  // without it. TypeScript is an optional peer of the package: say how to get it when it is missing.
  let generate: typeof import('./generate.js').generate;
  try {
    ({ generate } = await import('./generate.js'));
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND' || !String((err as Error).message).includes("'typescript'")) throw err;
    process.stderr.write("apartment-proxygen: needs the 'typescript' package (5.x or later) to read interfaces; install it beside apartment-runtime: npm install --save-dev typescript\n");
    return 1;
  }
  const run = generate(options, io);
  if (!options.watch) return run.code;
  watchAndRegenerate(options, run.read, generate);
  return -1;
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
