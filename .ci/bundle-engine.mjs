// The last step of `npm run build`: put the modules an apartment's thread loads into a few files
// (engines) in dist/lib/, and turn each of those modules' own files in dist/ into a facade that
// re-exports its names from its engine.
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
// Why several engines: compiling and running code costs a thread's start time and memory whether
// the code runs or not, and a plain worker apartment never runs a child's byte pipe, a node's NATS
// session or the script engine. So the first engine holds the static import closure of the worker
// apartment's start script (lib/worker-main.ts) and nothing it reaches only by a dynamic import; each
// later engine holds what its start points reach and no earlier engine holds; what two later engines
// both reach goes into the first. An engine imports the modules of other engines through their
// facades, so every module still exists once. Modules are in the order Node evaluates them
// (dependencies first). The start scripts, whose top-level code must run only when started, stay
// outside the engines and import the facades, as do the host's own modules and the CLI.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { build } from 'esbuild';
import ts from 'typescript';

/**
 * The names a bundle changes, from esbuild's output with keepNames: each `__name(f, "name")` call
 * pins a function's or class's name, and a pin matters where the code would otherwise have another
 * name: a declaration the bundle renamed (two modules declaring `refuse`), a class named after
 * itself for the references inside it (`SharedMutex = class _SharedMutex`), a function whose own
 * name minifying dropped. Listed as `name (would be other)`; a pin not recognised counts as one
 * that matters.
 */
function namesTheBundleChanges(code) {
  const changed = [];
  const bindingOf = (node) => {
    const p = node.parent;
    if ((ts.isVariableDeclaration(p) || ts.isParameter(p) || ts.isBindingElement(p)) && ts.isIdentifier(p.name)) return p.name.text;
    if ((ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) || ts.isPrivateIdentifier(p.name))) return p.name.text;
    if (ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.EqualsToken && ts.isIdentifier(p.left)) return p.left.text;
    return undefined;
  };
  const natural = (target, call) => {
    if (ts.isIdentifier(target)) return target.text;
    if (target.kind === ts.SyntaxKind.ThisKeyword) {
      let c = call.parent;
      while (c && !ts.isClassLike(c)) c = c.parent;
      return c && (c.name?.text ?? bindingOf(c));
    }
    if (ts.isFunctionExpression(target) || ts.isArrowFunction(target) || ts.isClassExpression(target)) return target.name?.text ?? bindingOf(call);
    return undefined;
  };
  const visit = (node) => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === '__name' && node.arguments.length === 2 && ts.isStringLiteral(node.arguments[1])) {
      const would = natural(node.arguments[0], node);
      if (would !== node.arguments[1].text) changed.push(`${node.arguments[1].text} (would be ${would ?? 'unknown'})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile('engine.js', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS));
  return changed;
}

/** The engines, in order: the file and the modules whose import closure it holds (less what an earlier engine holds). */
const ENGINES = [
  { file: 'lib/apartment-engine.js', starts: ['lib/worker-main.ts'] },
  // A process's main thread (its pipe to the host) and an apartment a node runs (its NATS session).
  { file: 'lib/apartment-engine-links.js', starts: ['lib/process-main.ts', 'marshal/transports/ipc-link.ts', 'marshal/transports/nats-link.ts'] },
  { file: 'lib/apartment-engine-scripts.js', starts: ['lib/script-engine/script-engine.ts'] },
];
/** Start scripts: outside every engine. */
const SCRIPTS = ['lib/worker-main.ts', 'lib/process-main.ts'];
const root = process.cwd();
const dist = resolve(root, 'dist');
const quiet = { write: false, metafile: true, logLevel: 'error', absWorkingDir: root };
const distFile = (path) => resolve(dist, path.replace(/\.ts$/, '.js'));

// A dynamic import is where a thread loads code only when it needs it: the closure stops there.
const stopAtDynamicImports = {
  name: 'stop-at-dynamic-imports',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined));
  },
};

/** The local modules `starts` reach by static imports, dependencies before their importers (esbuild lists its inputs in that order). */
const closures = new Map();
async function closureOf(starts) {
  const key = starts.join('\n');
  if (!closures.has(key)) closures.set(key, await walkClosure(starts));
  return closures.get(key);
}

async function walkClosure(starts) {
  const result = await build({ ...quiet, entryPoints: starts, bundle: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', outdir: 'closure', plugins: [stopAtDynamicImports] });
  const modules = Object.keys(result.metafile.inputs).filter((path) => path.endsWith('.ts') && !path.startsWith('node_modules/'));
  const position = new Map(modules.map((path, i) => [path, i]));
  for (const path of modules) {
    for (const { path: dep, kind } of result.metafile.inputs[path].imports) {
      if (kind !== 'dynamic-import' && position.has(dep) && position.get(dep) > position.get(path)) throw new Error(`[bundle-engine] ${path} is listed before ${dep}, which it imports`);
    }
  }
  return modules;
}

// A module that two later engines reach goes into the first, so loading one later engine never
// loads another (the script engine and a process's pipe share the thread-exit codes, for one).
const [first, ...later] = ENGINES;
const firstStarts = [...first.starts];
for (;;) {
  const firstModules = new Set(await closureOf(firstStarts));
  const reachedBy = new Map();
  for (const engine of later) {
    for (const path of await closureOf(engine.starts)) if (!firstModules.has(path)) reachedBy.set(path, (reachedBy.get(path) ?? 0) + 1);
  }
  const shared = [...reachedBy].filter(([, count]) => count > 1).map(([path]) => path);
  if (shared.length === 0) break;
  firstStarts.push(...shared);
}
first.starts = firstStarts;
const owner = new Map(); // module path -> engine file
for (const engine of ENGINES) {
  engine.modules = (await closureOf(engine.starts)).filter((path) => !SCRIPTS.includes(path) && !owner.has(path));
  for (const path of engine.modules) owner.set(path, engine.file);
}
if (owner.get('lib/apartment-main.ts') !== ENGINES[0].file) throw new Error('[bundle-engine] lib/apartment-main.ts is not in the first engine');

// The names each module exports (types are gone by now; only values are re-exported).
const single = await build({ ...quiet, entryPoints: [...owner.keys()], bundle: false, format: 'esm', platform: 'node', outdir: 'dist', outbase: '.' });
const exportsOf = new Map();
for (const output of Object.values(single.metafile.outputs)) if (output.entryPoint) exportsOf.set(output.entryPoint, output.exports);

const alias = (index, name) => `m${index}$${name}`;
const relativeImport = (fromFile, toFile) => {
  const path = relative(dirname(fromFile), toFile);
  return path.startsWith('.') ? path : `./${path}`;
};

for (const engine of ENGINES) {
  const engineFile = resolve(dist, engine.file);
  const mine = new Set(engine.modules);
  const entry = engine.modules
    .map((path, i) => {
      const names = exportsOf.get(path) ?? [];
      return names.length === 0 ? `import './${path}';` : `export { ${names.map((n) => `${n} as ${alias(i, n)}`).join(', ')} } from './${path}';`;
    })
    .join('\n');
  // A module of another engine is imported through its facade, so it is not copied into this one.
  const throughFacades = {
    name: 'through-facades',
    setup(b) {
      b.onResolve({ filter: /^\./ }, (args) => {
        const target = relative(root, resolve(dirname(args.importer), args.path)).replace(/\.js$/, '.ts');
        if (!owner.has(target) || mine.has(target)) return undefined;
        return { path: relativeImport(engineFile, distFile(target)), external: true };
      });
    },
  };
  const options = {
    absWorkingDir: root,
    stdin: { contents: entry, resolveDir: root, sourcefile: 'apartment-engine.ts', loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    plugins: [throughFacades],
    // Every thread compiles the engine before it can say Ready: without layout and with shorter
    // syntax it is 30% smaller and compiles a little faster (docs/performance.md, 2026-12-06
    // evening). Identifiers keep their names, so a stack read without the source map still names
    // its functions. Lines stay short: Node quotes the source line of some failures (an exception
    // in a promise-reject callback, an uncaught error), and one line was once a whole engine.
    minifyWhitespace: true,
    minifySyntax: true,
    lineLimit: 120,
    outfile: engineFile,
    logLevel: 'warning',
  };
  // Function and class names are part of what users see (error names, contract classes, stack
  // frames). esbuild's keepNames would pin each one with a call that every thread runs at start,
  // 520 in the first engine: 0.2 MiB more resident memory per apartment and 16 KB more source
  // (docs/performance.md, 2026-12-06, night). So the engines are built without it, after a dry run
  // with it (unbroken lines, so each name is one string literal) that fails the build where a pin
  // would have mattered.
  const dry = await build({ ...options, keepNames: true, lineLimit: 0, write: false });
  const changed = namesTheBundleChanges(dry.outputFiles[0].text);
  if (changed.length > 0) {
    throw new Error(`[bundle-engine] ${engine.file} would change the names of ${changed.join(', ')}; rename it (an engine's modules share one top-level scope, and a name declared at the top of one renames that name's declarations in the others), or refer to a class inside its own body as \`this\``);
  }
  await build({ ...options, sourcemap: true });

  // esbuild writes code as ASCII (other characters as escapes) but keeps some comments as they are,
  // and one µ or → in a comment makes V8 hold the whole source two bytes a character: 370 KB more
  // in every thread. One ASCII character for each keeps every column, so the source map still fits.
  writeFileSync(engineFile, readFileSync(engineFile, 'utf8').replace(/[^\x00-\x7f]/g, '?'));

  engine.modules.forEach((path, i) => {
    const file = distFile(path);
    const from = relativeImport(file, engineFile);
    const names = exportsOf.get(path) ?? [];
    const body = names.length === 0 ? `import '${from}';\n` : `export { ${names.map((n) => `${alias(i, n)} as ${n}`).join(', ')} } from '${from}';\n`;
    writeFileSync(file, `// Facade: this module lives in ${relative(dirname(file), engineFile)} (.ci/bundle-engine.mjs).\n${body}`);
    rmSync(`${file}.map`, { force: true });
  });
}
