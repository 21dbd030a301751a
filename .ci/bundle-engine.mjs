// The last step of `npm run build`: put every module an apartment's thread loads at start into one
// file, dist/lib/apartment-engine.js, and turn each of those modules' own files in dist/ into a
// facade that re-exports its names from it.
//
// Why: a worker thread spends 0.3-0.45 ms on each ES module it loads (resolve, read, link), however
// small; the 102 modules of an apartment's start were 45 of its 80 ms, where a bare Worker answers
// in 25. One file is read and compiled once.
//
// Why facades and not a bundle per entry: a bundle holds its own copy of each module it contains,
// and two copies of the error module give two TimeoutError classes (instanceof fails across them)
// and two copies of each module's state. Every importer here (the host's runtime, the specs,
// plugins through the package's entry) reaches these modules through their usual paths, which now
// re-export the engine's one instance; the re-exports are live bindings.
//
// The modules are the import closure of the scripts an apartment's thread or process starts with
// (lib/worker-main.ts, lib/process-main.ts), in the order Node evaluates them (dependencies
// first). Those scripts, whose top-level code must run only when started, stay outside the engine
// and import the facades, as do the host's own modules and the CLI.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { build } from 'esbuild';

const STARTS = ['lib/worker-main.ts', 'lib/process-main.ts'];
const ENGINE = 'lib/apartment-engine.js';
const root = process.cwd();
const dist = resolve(root, 'dist');
const quiet = { write: false, metafile: true, logLevel: 'error', absWorkingDir: root };

// The closure, dependencies before their importers (esbuild lists its inputs in that order).
const closure = await build({ ...quiet, entryPoints: STARTS, bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', outdir: 'closure' });
const modules = Object.keys(closure.metafile.inputs).filter((path) => path.endsWith('.ts') && !path.startsWith('node_modules/') && !STARTS.includes(path));
const position = new Map(modules.map((path, i) => [path, i]));
for (const path of modules) {
  for (const { path: dep } of closure.metafile.inputs[path].imports) {
    if (position.has(dep) && position.get(dep) > position.get(path)) throw new Error(`[bundle-engine] ${path} is listed before ${dep}, which it imports`);
  }
}
if (!modules.includes('lib/apartment-main.ts')) throw new Error('[bundle-engine] lib/apartment-main.ts is not in the closure of the start scripts');

// The names each module exports (types are gone by now; only values are re-exported).
const single = await build({ ...quiet, entryPoints: modules, bundle: false, format: 'esm', platform: 'node', outdir: 'dist', outbase: '.' });
const exportsOf = new Map();
for (const output of Object.values(single.metafile.outputs)) if (output.entryPoint) exportsOf.set(output.entryPoint, output.exports);

const alias = (index, name) => `m${index}$${name}`;
const entry = modules
  .map((path, i) => {
    const names = exportsOf.get(path) ?? [];
    return names.length === 0 ? `import './${path}';` : `export { ${names.map((n) => `${n} as ${alias(i, n)}`).join(', ')} } from './${path}';`;
  })
  .join('\n');

const engineFile = resolve(dist, ENGINE);
await build({
  absWorkingDir: root,
  stdin: { contents: entry, resolveDir: root, sourcefile: 'apartment-engine.ts', loader: 'ts' },
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // Class and function names are part of what users see (error names, contract classes).
  keepNames: true,
  sourcemap: true,
  outfile: engineFile,
  logLevel: 'warning',
});

// esbuild writes code as ASCII (other characters as escapes) but keeps some comments as they are,
// and one µ or → in a comment makes V8 hold the whole source two bytes a character: 370 KB more
// in every thread. One ASCII character for each keeps every column, so the source map still fits.
writeFileSync(engineFile, readFileSync(engineFile, 'utf8').replace(/[^\x00-\x7f]/g, '?'));

modules.forEach((path, i) => {
  const file = resolve(dist, path.replace(/\.ts$/, '.js'));
  let from = relative(dirname(file), engineFile);
  if (!from.startsWith('.')) from = `./${from}`;
  const names = exportsOf.get(path) ?? [];
  const body = names.length === 0 ? `import '${from}';\n` : `export { ${names.map((n) => `${alias(i, n)} as ${n}`).join(', ')} } from '${from}';\n`;
  writeFileSync(file, `// Facade: this module lives in ${relative(dirname(file), engineFile)} (.ci/bundle-engine.mjs).\n${body}`);
  rmSync(`${file}.map`, { force: true });
});
