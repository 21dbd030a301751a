// Introspection: read the input files with the compiler's type checker and describe the interfaces
// to generate as IR, each from its resolved type. The CLI modules that import `typescript` are this
// one and the ones it drives (discover, members, check-builder, type-printer, type-kinds,
// module-access); emission works on the IR alone.
import { basename, join } from 'node:path';
import ts from 'typescript';
import { CheckBuilder } from './check-builder.js';
import { discover, problemAt, type Target } from './discover.js';
import { memberHash, versionOf } from './identity.js';
import type { FileIR, InterfaceIR, MemberIR, Problem } from './ir.js';
import { describeMembers } from './members.js';
import { ImportTable, ModuleAccess, packageEntryFiles } from './module-access.js';
import { CannotPrint, TypePrinter } from './type-printer.js';
import { TypeKinds } from './type-kinds.js';

/** What to introspect. */
export interface IntrospectOptions {
  readonly files: readonly string[];
  /** Interface names (plain or qualified: `NS.Name`) to include besides the ones tagged @remote. */
  readonly names: readonly string[];
  /** Where the generated files go (import paths are made relative to it). */
  readonly outDir: string;
}

/** The outcome for one interface: its IR, or the problems that stopped it. */
export interface InterfaceResult {
  readonly file: string;
  readonly qualifiedName: string;
  readonly ir: InterfaceIR | undefined;
  readonly problems: readonly Problem[];
}

export interface Introspection {
  /** Per input file, the interfaces that could be generated. */
  readonly files: FileIR[];
  /** Every problem; the CLI writes nothing when there is one. */
  readonly problems: Problem[];
  readonly interfaces: InterfaceResult[];
  readonly program: ts.Program;
}

/** The compiler options introspection reads the inputs with. */
export const PROGRAM_OPTIONS: ts.CompilerOptions = {
  strict: true, target: ts.ScriptTarget.ES2022, lib: ['lib.esnext.d.ts'], module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true, skipLibCheck: true, types: ['node'],
};

/** The program introspection reads: the inputs, and the entry points of the packages inputs come from. */
export function createProgram(files: readonly string[], outDir: string): ts.Program {
  return ts.createProgram([...files, ...packageEntryFiles(files, outDir, PROGRAM_OPTIONS)], PROGRAM_OPTIONS);
}

/** The generated file's name for an input file: calc-api.ts → calc-api.remote.ts, api.d.mts → api.remote.mts */
export function outputName(source: string): string {
  const m = /(\.d)?\.(m|c)?tsx?$/.exec(basename(source));
  const stem = m ? basename(source).slice(0, m.index) : basename(source);
  return `${stem}.remote.${m?.[2] ?? ''}ts`;
}

/**
 * Order by UTF-16 code units, never by locale: localeCompare depends on the machine's ICU data and
 * locale, and generated files and version hashes must be byte-identical everywhere.
 */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Errors that leave a type of the input unresolved (a name or module not found, an import this
 * resolution cannot follow) and any syntax error: the checker would read such a type as `any`, and
 * the generated checks would then take any value where it stands, with nothing said.
 */
const UNRESOLVED = new Set([2304, 2305, 2307, 2503, 2552, 2580, 2582, 2591, 2592, 2613, 2614, 2694, 2724, 2792, 2834, 2835]);

function unresolvedIn(program: ts.Program, files: readonly string[]): Problem[] {
  const out: Problem[] = [];
  for (const file of files) {
    const sf = program.getSourceFile(file);
    if (!sf) continue;
    const found = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf).filter((d) => UNRESOLVED.has(d.code))];
    for (const d of found) {
      if (d.category !== ts.DiagnosticCategory.Error) continue;
      const at = sf.getLineAndCharacterOfPosition(d.start ?? 0);
      const text = ts.flattenDiagnosticMessageText(d.messageText, ' ');
      out.push({ file, line: at.line + 1, column: at.character + 1, message: `${text} (TS${d.code}); a type left unresolved would be checked as any. apartment-proxygen reads the input with NodeNext resolution and Node's types only: relative imports name their .js file, and tsconfig paths are not followed` });
    }
  }
  return out;
}

/** Introspect every file; problems are collected, not thrown. */
export function introspect(options: IntrospectOptions, program: ts.Program = createProgram(options.files, options.outDir)): Introspection {
  const checker = program.getTypeChecker();
  const found = discover(program, checker, options.files, options.names);
  const problems: Problem[] = [...found.problems, ...unresolvedIn(program, options.files)];
  const access = new ModuleAccess(program, checker, options.outDir);
  const kinds = new TypeKinds(program, checker, found.remote);
  const files: FileIR[] = [];
  const interfaces: InterfaceResult[] = [];
  const bySource = new Map<string, Target[]>();
  for (const t of found.targets) bySource.set(t.file, [...(bySource.get(t.file) ?? []), t]);
  for (const source of [...bySource.keys()].sort(byCodeUnits)) {
    const sf = program.getSourceFile(source);
    const imports = new ImportTable(sf ? ModuleAccess.importedPackages(sf) : []);
    const checks = new CheckBuilder(checker, kinds, access);
    const printer = new TypePrinter(checker, access, kinds, imports);
    const done: InterfaceIR[] = [];
    const publicNames = new Map<string, string>();
    for (const target of bySource.get(source)!.sort((a, b) => byCodeUnits(a.qualifiedName, b.qualifiedName))) {
      const mine: Problem[] = [];
      const ir = describeInterface(target, { checker, access, kinds, checks, printer, imports }, mine);
      const name = target.declaration.name.text;
      const clash = publicNames.get(name);
      if (ir && clash) mine.push(problemAt(target.declaration, `interface ${target.qualifiedName}: ${clash} in the same file is also named ${name}, and the generated names (${name}Proxy…) would clash; generate them from separate files`));
      publicNames.set(name, target.qualifiedName);
      interfaces.push({ file: source, qualifiedName: target.qualifiedName, ir: mine.length === 0 ? ir : undefined, problems: mine });
      problems.push(...mine);
      if (ir && mine.length === 0) done.push(ir);
    }
    if (done.length > 0) {
      files.push({ source, output: join(options.outDir, outputName(source)), interfaces: done.sort((a, b) => byCodeUnits(a.name, b.name)), shapes: [...checks.shapes.values()], imports: imports.list() });
    }
  }
  // Compiler order: by file and position; command-line problems (no position) last.
  problems.sort((a, b) => (a.line === 0 ? 1 : 0) - (b.line === 0 ? 1 : 0) || byCodeUnits(a.file, b.file) || a.line - b.line || a.column - b.column);
  return { files, problems, interfaces, program };
}

interface Tools {
  checker: ts.TypeChecker;
  access: ModuleAccess;
  kinds: TypeKinds;
  checks: CheckBuilder;
  printer: TypePrinter;
  imports: ImportTable;
}

function describeInterface(target: Target, tools: Tools, problems: Problem[]): InterfaceIR | undefined {
  const { checker, access, checks, printer, imports } = tools;
  const decl = target.declaration;
  const name = decl.name.text;
  const ref = access.reference(target.symbol, imports);
  if (!ref) {
    problems.push(problemAt(decl, `${target.qualifiedName} is not exported from its module (the generated file imports its type); export it`));
    return undefined;
  }
  const typeParameters = (decl.typeParameters ?? []).map((tp) => checker.getTypeAtLocation(tp) as ts.TypeParameter);
  const scope = new Set<ts.Symbol>();
  let typeParams: string;
  try {
    typeParams = printer.typeParams(typeParameters, scope);
  } catch (err) {
    if (!(err instanceof CannotPrint)) throw err;
    problems.push(problemAt(decl, `interface ${target.qualifiedName}: the constraint or default of a type parameter cannot be named in the generated file (${err.message})`));
    return undefined;
  }
  const args = typeParameters.length > 0 ? `<${typeParameters.map((tp) => tp.getSymbol()!.getName()).join(', ')}>` : '';
  const anyArgs = typeParameters.length > 0 ? `<${typeParameters.map(() => 'any').join(', ')}>` : '';
  const typeRef = `${ref}${args}`;
  const type = checker.getDeclaredTypeOfSymbol(target.symbol);
  const drafts = describeMembers({
    checker, kinds: tools.kinds, checks, printer, name, typeRef, scope,
    problem: (at, message) => problems.push(problemAt(at ?? decl, message)),
  }, type);
  if (!drafts || problems.length > 0) return undefined;
  if (drafts.length === 0) {
    problems.push(problemAt(decl, `interface ${target.qualifiedName} has no members to call`));
    return undefined;
  }
  const members: MemberIR[] = drafts.map((d) => {
    const { resultKey: _key, ...member } = d;
    return { ...member, hash: memberHash(d, checks.shapes) };
  });
  const id = target.declaredId ?? access.declarationId(target.symbol);
  return { name, id, version: versionOf(id, members), typeRef, anyRef: `${ref}${anyArgs}`, typeParams, typeArgs: args, members };
}
