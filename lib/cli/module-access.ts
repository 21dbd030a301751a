// How a generated file names a declared type: through a module it can import (the source file
// itself, a package entry that re-exports it, an ambient `declare module`), down the path of
// namespaces and re-exports that reaches it; or by its global name. Also each declaration's stable
// module id, the part of an interface's identity that says where it was declared.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The imports one generated file needs, with an alias per module in order of first use. */
export class ImportTable {
  private readonly aliases = new Map<string, string>();

  /** `preferred`: package specifiers the input file itself imports from (tried before the declaring package). */
  constructor(readonly preferred: readonly string[] = []) {}

  specifiers(): string[] {
    return [...this.aliases.keys()];
  }

  alias(specifier: string): string {
    let a = this.aliases.get(specifier);
    if (!a) this.aliases.set(specifier, (a = `$${this.aliases.size + 1}`));
    return a;
  }

  list(): { alias: string; specifier: string }[] {
    return [...this.aliases].map(([specifier, alias]) => ({ alias, specifier }));
  }
}

interface PackageInfo {
  root: string;
  name: string;
  exports: unknown;
}

/** Finds how generated code in `outDir` reaches declarations, and where they were declared. */
export class ModuleAccess {
  private readonly packages = new Map<string, PackageInfo | null>();
  private readonly exportIndexes = new Map<ts.Symbol, Map<ts.Symbol, string>>();
  private readonly resolved = new Map<string, string | undefined>();
  private readonly fromFile: string;

  constructor(private readonly program: ts.Program, private readonly checker: ts.TypeChecker, outDir: string) {
    this.fromFile = join(outDir, '__proxygen__.ts');
  }

  /** A type reference valid in a generated file (`$1.Foo`, `$2.NS.Bar`, `Date`), or undefined. */
  reference(symbol: ts.Symbol, imports: ImportTable): string | undefined {
    const target = this.resolveAlias(symbol);
    const home = this.homeOf(target);
    if (home === 'global') return this.globalName(target);
    if (!home) return undefined;
    // Modules the generated file imports already, then the packages the input imports from (a
    // package's entry often re-exports what a dependency declares), then where it was declared.
    for (const specifier of [...imports.specifiers(), ...imports.preferred]) {
      const path = this.pathIn(specifier, target);
      if (path) return `${imports.alias(specifier)}.${path}`;
    }
    for (const [specifier, moduleSymbol] of this.candidates(home)) {
      const path = this.exportIndex(moduleSymbol).get(target);
      if (path) return `${imports.alias(specifier)}.${path}`;
    }
    return undefined;
  }

  /** The access path to `target` among the exports of the module `specifier` loads, if it exports it. */
  private pathIn(specifier: string, target: ts.Symbol): string | undefined {
    const file = this.resolve(specifier);
    const sf = file ? this.program.getSourceFile(file) : undefined;
    const moduleSymbol = sf ? this.checker.getSymbolAtLocation(sf) : undefined;
    return moduleSymbol ? this.exportIndex(moduleSymbol).get(target) : undefined;
  }

  /** The package specifiers an input file imports or re-exports from. */
  static importedPackages(sf: ts.SourceFile): string[] {
    const out: string[] = [];
    for (const s of sf.statements) {
      const spec = (ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) && s.moduleSpecifier && ts.isStringLiteral(s.moduleSpecifier) ? s.moduleSpecifier.text : undefined;
      if (spec && !spec.startsWith('.') && !spec.startsWith('/') && !out.includes(spec)) out.push(spec);
    }
    return out;
  }

  /** Where `symbol` was declared, machine-independently: `pkg/path/file#NS.Name` or `module#Name`. */
  declarationId(symbol: ts.Symbol): string {
    const target = this.resolveAlias(symbol);
    const decl = target.declarations?.[0];
    const inner = this.checker.getFullyQualifiedName(target).replace(/^"[^"]*"\./, '');
    if (!decl) return inner;
    const ambient = ambientModuleOf(decl);
    if (ambient) return `${ambient}#${inner}`;
    const file = decl.getSourceFile().fileName;
    const pkg = this.packageOf(file);
    const path = stripExtension(pkg ? relative(pkg.root, file) : file.slice(file.lastIndexOf('/') + 1)).replace(/\\/g, '/');
    return `${pkg ? `${publicName(pkg.name)}/` : ''}${path}#${inner}`;
  }

  private resolveAlias(symbol: ts.Symbol): ts.Symbol {
    return symbol.flags & ts.SymbolFlags.Alias ? this.checker.getAliasedSymbol(symbol) : symbol;
  }

  /** The module (a source file, or an ambient module's name) a symbol is exported from, or 'global'. */
  private homeOf(symbol: ts.Symbol): ts.SourceFile | { ambient: string } | 'global' | undefined {
    const decl = symbol.declarations?.[0];
    if (!decl) return undefined;
    if (isInGlobalAugmentation(decl)) return 'global';
    const ambient = ambientModuleOf(decl);
    if (ambient) return { ambient };
    const sf = decl.getSourceFile();
    if (!ts.isExternalModule(sf)) return 'global';
    return sf;
  }

  private globalName(symbol: ts.Symbol): string | undefined {
    // A `declare global` block inside a module qualifies its names with `global.`; they are plain globals.
    const name = this.checker.getFullyQualifiedName(symbol).replace(/^global\./, '');
    return name.split('.').every((part) => IDENTIFIER.test(part)) ? name : undefined;
  }

  /** Module specifiers that may export what `home` declares, each with its module symbol. */
  private *candidates(home: ts.SourceFile | { ambient: string }): Iterable<[string, ts.Symbol]> {
    if ('ambient' in home) {
      const m = this.checker.getAmbientModules().find((s) => s.getName().replace(/^"|"$/g, '') === home.ambient);
      if (m) yield [home.ambient, m];
      return;
    }
    // The file itself when the package allows it, then the package's entry points, and as a last
    // resort a relative path into the package (a type-only import never loads it).
    const specifiers = [this.directSpecifier(home.fileName), ...packageSpecifiers(this.packageOf(home.fileName), home.fileName), this.relativeSpecifier(home.fileName)];
    for (const specifier of specifiers) {
      if (!specifier) continue;
      const file = this.resolve(specifier);
      const sf = file ? this.program.getSourceFile(file) : undefined;
      const moduleSymbol = sf ? this.checker.getSymbolAtLocation(sf) : undefined;
      if (moduleSymbol) yield [specifier, moduleSymbol];
    }
  }

  /** The file itself: relative to the output directory, or a package subpath the package allows. */
  private directSpecifier(file: string): string | undefined {
    const pkg = this.packageOf(file);
    if (!file.includes('/node_modules/') || !pkg) return this.relativeSpecifier(file);
    const sub = `${publicName(pkg.name)}/${relative(pkg.root, jsExtension(file)).replace(/\\/g, '/')}`;
    return this.resolve(sub) === file ? sub : undefined;
  }

  private relativeSpecifier(file: string): string {
    const rel = relative(dirname(this.fromFile), jsExtension(file)).replace(/\\/g, '/');
    return rel.startsWith('.') ? rel : `./${rel}`;
  }

  private resolve(specifier: string): string | undefined {
    if (this.resolved.has(specifier)) return this.resolved.get(specifier);
    const file = resolveFrom(this.fromFile, specifier, this.program.getCompilerOptions());
    this.resolved.set(specifier, file);
    return file;
  }

  /** Every symbol a module exports, through namespaces and re-exports, with its access path. */
  private exportIndex(moduleSymbol: ts.Symbol): Map<ts.Symbol, string> {
    let index = this.exportIndexes.get(moduleSymbol);
    if (index) return index;
    index = new Map();
    const found = index;
    const visit = (container: ts.Symbol, prefix: string, depth: number): void => {
      for (const e of this.checker.getExportsOfModule(container)) {
        if (!IDENTIFIER.test(e.name)) continue;
        const target = this.resolveAlias(e);
        const path = `${prefix}${e.name}`;
        if (!found.has(target)) found.set(target, path);
        if (target.flags & ts.SymbolFlags.TypeAlias) {
          // `type ReadableStream = _ReadableStream` names an interface that may not be exported itself.
          const aliased = this.checker.getDeclaredTypeOfSymbol(target);
          const sym = aliased.getSymbol();
          if (sym && sym.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class) && !found.has(sym) && this.checker.getDeclaredTypeOfSymbol(sym) === aliased) found.set(sym, path);
        }
        if (depth < 3 && target !== container && target.flags & (ts.SymbolFlags.NamespaceModule | ts.SymbolFlags.ValueModule)) visit(target, `${path}.`, depth + 1);
      }
    };
    // A CommonJS module's `export =` value is its default export for an ES module importing it.
    const assigned = moduleSymbol.exports?.get(ts.InternalSymbolName.ExportEquals);
    if (assigned) index.set(this.resolveAlias(assigned), 'default');
    visit(moduleSymbol, '', 0);
    this.exportIndexes.set(moduleSymbol, index);
    return index;
  }

  /** The package a file belongs to (the nearest package.json with a name), cached for every directory on the way. */
  private packageOf(file: string): PackageInfo | undefined {
    const visited: string[] = [];
    let found: PackageInfo | null = null;
    for (let dir = dirname(file); ; dir = dirname(dir)) {
      const known = this.packages.get(dir);
      if (known !== undefined) {
        found = known;
        break;
      }
      visited.push(dir);
      const info = readPackage(dir);
      if (info) {
        found = info;
        break;
      }
      if (dirname(dir) === dir) break;
    }
    for (const dir of visited) this.packages.set(dir, found);
    return found ?? undefined;
  }
}

function readPackage(dir: string): PackageInfo | undefined {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return undefined;
  try {
    const json = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown; exports?: unknown };
    return typeof json.name === 'string' ? { root: dir, name: json.name, exports: json.exports } : undefined;
  } catch {
    // An unreadable package.json: keep looking further up.
    return undefined;
  }
}

/** The name of the `declare module 'x'` block a declaration sits in, if any. */
function ambientModuleOf(node: ts.Node): string | undefined {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if (ts.isModuleDeclaration(n) && ts.isStringLiteral(n.name)) return n.name.text;
  }
  return undefined;
}

function isInGlobalAugmentation(node: ts.Node): boolean {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if (ts.isModuleDeclaration(n) && n.name.kind === ts.SyntaxKind.Identifier && n.name.text === 'global') return true;
  }
  return false;
}

/** The file an ESM import of `specifier` in `fromFile` loads types from. */
function resolveFrom(fromFile: string, specifier: string, options: ts.CompilerOptions): string | undefined {
  return ts.resolveModuleName(specifier, fromFile, options, ts.sys, undefined, undefined, ts.ModuleKind.ESNext).resolvedModule?.resolvedFileName;
}

/**
 * The entry files of the packages that `files` from node_modules belong to, as resolved from
 * `outDir`: they must be in the program for the generated file's imports to be found.
 */
export function packageEntryFiles(files: readonly string[], outDir: string, options: ts.CompilerOptions): string[] {
  const out = new Set<string>();
  for (const f of files) {
    if (!f.includes('/node_modules/')) continue;
    let pkg: PackageInfo | undefined;
    for (let dir = dirname(f); !pkg && dirname(dir) !== dir; dir = dirname(dir)) pkg = readPackage(dir);
    for (const specifier of packageSpecifiers(pkg, f)) {
      const resolved = resolveFrom(join(outDir, '__proxygen__.ts'), specifier, options);
      if (resolved) out.add(resolved);
    }
  }
  return [...out];
}

/** A package's entry points: its name, and the subpaths its exports map lists. */
function packageSpecifiers(pkg: PackageInfo | undefined, file: string): string[] {
  if (!pkg || !file.includes('/node_modules/')) return [];
  const name = publicName(pkg.name);
  const subpaths = pkg.exports && typeof pkg.exports === 'object' && !Array.isArray(pkg.exports)
    ? Object.keys(pkg.exports).filter((k) => k.startsWith('./') && !k.includes('*')).map((k) => `${name}/${k.slice(2)}`)
    : [];
  return [name, ...subpaths];
}

/** `@types/foo` is imported as `foo`, `@types/scope__pkg` as `@scope/pkg`. */
function publicName(name: string): string {
  if (!name.startsWith('@types/')) return name;
  const bare = name.slice('@types/'.length);
  return bare.includes('__') ? `@${bare.replace('__', '/')}` : bare;
}

/** A TypeScript source or declaration file's name as a JavaScript import names it. */
export function jsExtension(file: string): string {
  return file.replace(/\.d\.(m|c)?ts$/, '.$1ts').replace(/\.(m|c)?tsx?$/, (_m, k: string | undefined) => `.${k ?? ''}js`);
}

function stripExtension(file: string): string {
  return file.replace(/(\.d)?\.(m|c)?tsx?$/, '');
}
