// The corpus: apartment-proxygen pointed at the declaration files of widely used packages (installed
// as devDependencies), over every interface with a method. Each interface ends up usable (output
// written, compiles under strict NodeNext with the rest, the manifest lists every member of the
// resolved type, same bytes when generated in a program of its own package only), refused (with a
// problem), or silently wrong (anything else). One program per pass, not one process per interface.
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { emitFile } from '../../../lib/cli/emit.js';
import { createProgram, introspect, type InterfaceResult } from '../../../lib/cli/introspect.js';
import type { FileIR, InterfaceIR } from '../../../lib/cli/ir.js';
import { repo } from './cli-harness.js';

const modules = join(repo, 'node_modules');

function declarations(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).sort().flatMap((n) => {
    const f = join(dir, n);
    return statSync(f).isDirectory() ? declarations(f, ext) : ext.test(f) ? [f] : [];
  });
}

/** The packages and their declaration files. */
export function corpusPackages(): { name: string; files: string[] }[] {
  return [
    { name: 'vscode-languageserver-protocol', files: declarations(join(modules, 'vscode-languageserver-protocol/lib/common'), /\.d\.ts$/) },
    { name: 'vscode-jsonrpc', files: declarations(join(modules, 'vscode-jsonrpc/lib/common'), /\.d\.ts$/) },
    { name: '@types/vscode', files: [join(modules, '@types/vscode/index.d.ts')] },
    // OpenTelemetry's API 1.10, under an alias: the specs of the runtime's own OpenTelemetry support
    // use 1.9, the newest that OpenTelemetry's SDK packages accept as a peer.
    { name: '@opentelemetry/api', files: declarations(join(modules, 'otel-api-corpus/dist'), /\.d\.mts$/) },
    { name: '@types/ws', files: [join(modules, '@types/ws/index.d.ts')] },
    { name: 'async-mutex', files: declarations(join(modules, 'async-mutex/lib'), /\.d\.ts$/) },
    { name: 'comlink', files: declarations(join(modules, 'comlink/dist/umd'), /\.d\.ts$/) },
    { name: 'typed-emitter', files: [join(modules, 'typed-emitter/index.d.ts')] },
  ];
}

/** One interface of the corpus, as the spec itself finds it (independently of the generator). */
export interface CorpusInterface {
  readonly pkg: string;
  readonly file: string;
  readonly name: string;
  /** Every member of the resolved type, named as a manifest names it. */
  readonly members: ReadonlySet<string>;
}

function memberNameOf(p: ts.Symbol): string {
  if (!p.getName().startsWith('__@')) return p.getName();
  const decl = p.declarations?.[0] as ts.NamedDeclaration | undefined;
  return decl?.name && ts.isComputedPropertyName(decl.name) ? `[${decl.name.expression.getText()}]` : p.getName();
}

/** Every interface declaration (top level, namespaces, `declare module`) whose resolved type has a method. */
function interfacesOf(program: ts.Program, pkg: string, files: readonly string[]): CorpusInterface[] {
  const checker = program.getTypeChecker();
  const out: CorpusInterface[] = [];
  for (const file of files) {
    const visit = (statements: readonly ts.Statement[], prefix: string): void => {
      for (const s of statements) {
        if (ts.isInterfaceDeclaration(s)) {
          const symbol = checker.getSymbolAtLocation(s.name)!;
          if (symbol.declarations?.[0] !== s) continue;
          const type = checker.getDeclaredTypeOfSymbol(symbol);
          const props = checker.getPropertiesOfType(type);
          const callable = (p: ts.Symbol): boolean => (p.flags & ts.SymbolFlags.Method) !== 0 || checker.getNonNullableType(checker.getTypeOfSymbol(p)).getCallSignatures().length > 0;
          if (!props.some(callable)) continue;
          const members = new Set(props.map(memberNameOf));
          if (type.getCallSignatures().length > 0) members.add('()');
          for (const info of checker.getIndexInfosOfType(type)) members.add(`[key: ${checker.typeToString(info.keyType)}]`);
          out.push({ pkg, file, name: `${prefix}${s.name.text}`, members });
        } else if (ts.isModuleDeclaration(s)) {
          let body = s.body;
          let path = ts.isStringLiteral(s.name) ? '' : `${prefix}${s.name.text}.`;
          while (body && ts.isModuleDeclaration(body)) {
            path += `${body.name.text}.`;
            body = body.body;
          }
          if (body && ts.isModuleBlock(body)) visit(body.statements, path);
        }
      }
    };
    visit(program.getSourceFile(file)!.statements, '');
  }
  return out;
}

export type Verdict = { kind: 'usable' } | { kind: 'refused'; why: string } | { kind: 'silently wrong'; why: string };

export interface CorpusRow {
  readonly iface: CorpusInterface;
  readonly verdict: Verdict;
}

const outRoot = join(repo, 'dist/spec-out/proxygen-corpus');

/** Generate every corpus interface into its own file (so a compile error is attributed to it); returns the texts. */
function generate(program: ts.Program, pkg: { name: string; files: string[] }, names: readonly string[]): { results: InterfaceResult[]; texts: Map<string, string> } {
  const outDir = join(outRoot, pkg.name.replace(/[@/]/g, '_'));
  const runtime = relative(outDir, join(repo, 'lib/index.js')).replace(/\\/g, '/');
  const r = introspect({ files: pkg.files, names, outDir }, program);
  const texts = new Map<string, string>();
  for (const f of r.files) {
    for (const iface of f.interfaces) {
      const single: FileIR = { ...f, interfaces: [iface as InterfaceIR] };
      const key = `${f.source}#${r.interfaces.find((i) => i.ir === iface)!.qualifiedName}`;
      texts.set(key, emitFile(single, runtime));
    }
  }
  return { results: r.interfaces, texts };
}

/** Run the whole corpus and classify every interface. */
export function runCorpus(): CorpusRow[] {
  rmSync(outRoot, { recursive: true, force: true });
  const packages = corpusPackages();
  const all = packages.flatMap((p) => p.files);
  const program = createProgram(all, join(outRoot, 'corpus'));
  const corpus = packages.flatMap((p) => interfacesOf(program, p.name, p.files));
  const results = new Map<string, InterfaceResult>();
  const texts = new Map<string, string>();
  const written = new Map<string, string>();
  for (const pkg of packages) {
    const names = [...new Set(corpus.filter((c) => c.pkg === pkg.name).map((c) => c.name))];
    const run = generate(program, pkg, names);
    for (const r of run.results) results.set(`${r.file}#${r.qualifiedName}`, r);
    for (const [key, text] of run.texts) {
      texts.set(key, text);
      const out = join(outRoot, pkg.name.replace(/[@/]/g, '_'), `${key.slice(key.lastIndexOf('#') + 1)}.${written.size}.remote.ts`);
      mkdirSync(join(out, '..'), { recursive: true });
      writeFileSync(out, text);
      written.set(key, out);
    }
  }
  // The same interfaces again, each package in a program of its own: the output must not change.
  const alone = new Map<string, string>();
  for (const pkg of packages) {
    const names = [...new Set(corpus.filter((c) => c.pkg === pkg.name).map((c) => c.name))];
    for (const [key, text] of generate(createProgram(pkg.files, join(outRoot, 'corpus')), pkg, names).texts) alone.set(key, text);
  }
  const broken = compileErrors([...written.values()]);
  return corpus.map((iface) => {
    const key = `${iface.file}#${iface.name}`;
    const result = results.get(key);
    if (!result) return { iface, verdict: { kind: 'silently wrong', why: 'no result at all' } };
    if (!result.ir) return { iface, verdict: { kind: 'refused', why: result.problems.map((p) => p.message).join('; ') } };
    const text = texts.get(key);
    const out = written.get(key);
    if (!text || !out) return { iface, verdict: { kind: 'silently wrong', why: 'no output written' } };
    const errors = broken.get(out);
    if (errors) return { iface, verdict: { kind: 'silently wrong', why: `does not compile: ${errors[0]}` } };
    const listed = new Set(result.ir.members.map((m) => m.name));
    const missing = [...iface.members].filter((m) => !listed.has(m));
    const extra = [...listed].filter((m) => !iface.members.has(m));
    if (missing.length > 0 || extra.length > 0) return { iface, verdict: { kind: 'silently wrong', why: `manifest members differ: missing ${missing.join(', ') || '-'}, extra ${extra.join(', ') || '-'}` } };
    if (/__@|__#|\/(work|tmp|home|usr)\//.test(text)) return { iface, verdict: { kind: 'silently wrong', why: 'compiler-internal name or machine path in the output' } };
    if (alone.get(key) !== text) return { iface, verdict: { kind: 'silently wrong', why: 'output changes with the other files in the program' } };
    return { iface, verdict: { kind: 'usable' } };
  });
}

/** Type-check the generated files together, strict NodeNext; errors per generated file. */
function compileErrors(files: readonly string[]): Map<string, string[]> {
  const program = ts.createProgram([...files], {
    strict: true, noEmit: true, noUnusedLocals: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022, skipLibCheck: true, types: ['node'], typeRoots: [join(modules, '@types')], lib: ['lib.es2024.d.ts', 'lib.esnext.disposable.d.ts'],
  });
  const errors = new Map<string, string[]>();
  for (const file of files) {
    const sf = program.getSourceFile(file);
    const diagnostics = sf ? [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)] : [];
    if (!sf) errors.set(file, ['not in the program']);
    else if (diagnostics.length > 0) errors.set(file, diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')));
  }
  return errors;
}

/** The table the spec prints: per package, and in total. */
export function corpusTable(rows: readonly CorpusRow[]): string {
  const pkgs = [...new Set(rows.map((r) => r.iface.pkg)), 'total'];
  const count = (pkg: string, kind: Verdict['kind']): number => rows.filter((r) => (pkg === 'total' || r.iface.pkg === pkg) && r.verdict.kind === kind).length;
  const lines = pkgs.map((p) => {
    const n = rows.filter((r) => p === 'total' || r.iface.pkg === p).length;
    const usable = count(p, 'usable');
    return [p, String(n), `${usable} (${((100 * usable) / n).toFixed(0)}%)`, String(count(p, 'refused')), String(count(p, 'silently wrong'))];
  });
  const head = ['package', 'interfaces', 'usable', 'refused', 'silently wrong'];
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (l: string[]): string => `| ${l.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n');
}
