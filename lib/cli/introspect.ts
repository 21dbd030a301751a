// Introspection: read TypeScript files with the compiler's type checker and describe the interfaces
// marked `@remote` (or named with --interface) as IR. The only module that imports `typescript`.
import { dirname, relative, basename } from 'node:path';
import ts from 'typescript';
import type { ParamSpec, TypeCheck } from '../../marshal/interface-manifest.js';
import type { FileIR, InterfaceIR, MethodIR, Problem } from './ir.js';

/** What to introspect. */
export interface IntrospectOptions {
  files: readonly string[];
  /** Interface names to include besides the ones tagged @remote. */
  names: readonly string[];
  /** Where the generated files go (import paths are made relative to it). */
  outDir: string;
}

/** Introspect every file; problems are collected, not thrown. */
export function introspect(options: IntrospectOptions): { files: FileIR[]; problems: Problem[] } {
  const program = ts.createProgram([...options.files], { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const problems: Problem[] = [];
  const files: FileIR[] = [];
  for (const file of [...options.files].sort(byCodeUnits)) {
    const sf = program.getSourceFile(file);
    if (!sf) continue;
    const candidates = sf.statements.filter((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && isExported(s) && (hasRemoteTag(s) || options.names.includes(s.name.text)));
    const remoteNames = new Set(candidates.map((c) => c.name.text));
    const interfaces: InterfaceIR[] = [];
    for (const decl of candidates) {
      const ir = describeInterface(decl, sf, checker, remoteNames, options.outDir, problems);
      if (ir) interfaces.push(ir);
    }
    if (interfaces.length > 0) files.push({ kind: 'file', source: file, interfaces: interfaces.sort((a, b) => byCodeUnits(a.name, b.name)) });
  }
  return { files, problems };
}

/**
 * Order by UTF-16 code units, never by locale: localeCompare depends on the machine's ICU data and
 * locale, and generated files and version hashes must be byte-identical everywhere.
 */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isExported(node: ts.InterfaceDeclaration): boolean {
  return node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false;
}

function hasRemoteTag(node: ts.Node): boolean {
  return ts.getJSDocTags(node).some((t) => t.tagName.text === 'remote');
}

function problemAt(node: ts.Node, sf: ts.SourceFile, message: string): Problem {
  const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  return { file: sf.fileName, line: line + 1, column: character + 1, message };
}

function describeInterface(decl: ts.InterfaceDeclaration, sf: ts.SourceFile, checker: ts.TypeChecker, remoteNames: ReadonlySet<string>, outDir: string, problems: Problem[]): InterfaceIR | undefined {
  const before = problems.length;
  if (decl.typeParameters?.length) problems.push(problemAt(decl, sf, `interface ${decl.name.text}: generic interfaces are not supported; remote interfaces must be concrete`));
  const methods: MethodIR[] = [];
  const seen = new Set<string>();
  for (const member of decl.members) {
    if (ts.isIndexSignatureDeclaration(member)) {
      problems.push(problemAt(member, sf, `interface ${decl.name.text}: index signatures are not supported; list each method`));
      continue;
    }
    if (ts.isGetAccessorDeclaration(member) || ts.isSetAccessorDeclaration(member)) {
      problems.push(problemAt(member, sf, `interface ${decl.name.text}: accessors are not remotable; use a method`));
      continue;
    }
    if (!ts.isMethodSignature(member)) {
      problems.push(problemAt(member, sf, `interface ${decl.name.text}: only methods are remotable; '${member.name?.getText(sf) ?? '?'}' is not a method`));
      continue;
    }
    if (!ts.isIdentifier(member.name)) {
      problems.push(problemAt(member, sf, `interface ${decl.name.text}: method names must be plain identifiers (no symbols or computed names)`));
      continue;
    }
    const name = member.name.text;
    if (seen.has(name)) {
      problems.push(problemAt(member, sf, `interface ${decl.name.text}: overloads of '${name}' are not supported; give each variant its own name`));
      continue;
    }
    seen.add(name);
    if (member.typeParameters?.length) {
      problems.push(problemAt(member, sf, `interface ${decl.name.text}: generic method '${name}' cannot be checked at run time; make it concrete`));
      continue;
    }
    const params: ParamSpec[] = [];
    member.parameters.forEach((p, i) => {
      if (!ts.isIdentifier(p.name)) {
        problems.push(problemAt(p, sf, `${decl.name.text}.${name}: destructured parameters are not supported; name the parameter`));
        return;
      }
      const type = checker.getTypeAtLocation(p);
      if (p.dotDotDotToken) {
        // Only a plain array rest can be checked element by element (a tuple rest would need positions).
        if (!checker.isArrayType(type) || i !== member.parameters.length - 1) {
          problems.push(problemAt(p, sf, `${decl.name.text}.${name}: rest parameter '${p.name.text}' must be a plain array (T[]); tuple rests are not supported`));
          return;
        }
        params.push({ name: p.name.text, type: describeType(type, checker, remoteNames, p, sf, problems, 0), optional: true, rest: true });
        return;
      }
      const check = describeType(type, checker, remoteNames, p, sf, problems, 0);
      params.push({ name: p.name.text, type: check, optional: p.questionToken !== undefined || p.initializer !== undefined });
    });
    const signature = checker.getSignatureFromDeclaration(member);
    const result = signature ? describeResult(checker.getAwaitedType(signature.getReturnType()) ?? signature.getReturnType(), checker, remoteNames) : undefined;
    methods.push({ kind: 'method', name, params, result });
  }
  if (problems.length > before) return undefined;
  let importPath = relative(outDir, sf.fileName).replace(/\\/g, '/').replace(/\.ts$/, '.js');
  if (!importPath.startsWith('.')) importPath = `./${importPath}`;
  if (dirname(importPath) === '.') importPath = `./${basename(importPath)}`;
  return { kind: 'interface', name: decl.name.text, importPath, methods };
}

function describeType(type: ts.Type, checker: ts.TypeChecker, remoteNames: ReadonlySet<string>, at: ts.Node, sf: ts.SourceFile, problems: Problem[], depth: number): TypeCheck {
  const f = type.flags;
  if (depth > 8) return { kind: 'unknown' };
  if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return { kind: 'unknown' };
  if (f & ts.TypeFlags.NumberLiteral) return { kind: 'literal', value: (type as ts.NumberLiteralType).value };
  if (f & ts.TypeFlags.StringLiteral) return { kind: 'literal', value: (type as ts.StringLiteralType).value };
  if (f & ts.TypeFlags.BooleanLiteral) return { kind: 'literal', value: checker.typeToString(type) === 'true' };
  if (f & ts.TypeFlags.Number) return { kind: 'number' };
  if (f & ts.TypeFlags.String) return { kind: 'string' };
  if (f & ts.TypeFlags.Boolean) return { kind: 'boolean' };
  if (f & ts.TypeFlags.BigInt) return { kind: 'bigint' };
  if (f & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)) return { kind: 'undefined' };
  if (f & ts.TypeFlags.Null) return { kind: 'null' };
  if (type.isUnion()) {
    const parts = type.types.map((t) => describeType(t, checker, remoteNames, at, sf, problems, depth + 1));
    const literals = parts.filter((p) => p.kind === 'literal' && typeof p.value === 'boolean');
    const rest = parts.filter((p) => !(p.kind === 'literal' && typeof p.value === 'boolean'));
    const merged = literals.length === 2 ? [...rest, { kind: 'boolean' } as TypeCheck] : parts;
    return merged.length === 1 ? merged[0]! : { kind: 'union', of: merged };
  }
  if (checker.isArrayType(type)) {
    const element = checker.getTypeArguments(type as ts.TypeReference)[0];
    return { kind: 'array', element: element ? describeType(element, checker, remoteNames, at, sf, problems, depth + 1) : { kind: 'unknown' } };
  }
  const remote = remoteOf(type, checker, remoteNames);
  if (remote) return remote;
  if (type.getCallSignatures().length > 0) return { kind: 'function' };
  if (checker.isTupleType(type)) {
    problems.push(problemAt(at, sf, `tuple type ${checker.typeToString(type)} is not supported; use an array or an object with named properties`));
    return { kind: 'unknown' };
  }
  if (f & ts.TypeFlags.Object) {
    if (checker.getIndexInfosOfType(type).length > 0) {
      problems.push(problemAt(at, sf, `type ${checker.typeToString(type)} has an index signature the runtime cannot check; use a plain object type or unknown`));
      return { kind: 'unknown' };
    }
    const props = checker.getPropertiesOfType(type).map((p) => ({
      name: p.getName(),
      type: describeType(checker.getTypeOfSymbolAtLocation(p, at), checker, remoteNames, at, sf, problems, depth + 1),
      optional: (p.flags & ts.SymbolFlags.Optional) !== 0,
    }));
    return { kind: 'object', props: props.sort((a, b) => byCodeUnits(a.name, b.name)) };
  }
  return { kind: 'unknown' };
}

/** The remote interface `type` names, with its method names (what a local stand-in must offer). */
function remoteOf(type: ts.Type, checker: ts.TypeChecker, remoteNames: ReadonlySet<string>): TypeCheck | undefined {
  const symbol = type.getSymbol() ?? type.aliasSymbol;
  if (!symbol || !remoteNames.has(symbol.getName())) return undefined;
  const methods = checker.getPropertiesOfType(type).filter((p) => (p.flags & ts.SymbolFlags.Method) !== 0).map((p) => p.getName());
  return { kind: 'remote', iface: symbol.getName(), methods };
}

/**
 * A result that holds a remote interface — itself, in a union (e.g. with null or undefined) or as
 * array elements — described for emission; undefined for anything else (its declared type is used).
 */
function describeResult(type: ts.Type, checker: ts.TypeChecker, remoteNames: ReadonlySet<string>): TypeCheck | undefined {
  const remote = remoteOf(type, checker, remoteNames);
  if (remote) return remote;
  if (checker.isArrayType(type)) {
    const element = checker.getTypeArguments(type as ts.TypeReference)[0];
    const inner = element && describeResult(element, checker, remoteNames);
    return inner ? { kind: 'array', element: inner } : undefined;
  }
  if (!type.isUnion()) return undefined;
  const parts = type.types.map((t) => describeResult(t, checker, remoteNames) ?? simpleOf(t));
  if (!parts.some((p) => p?.kind === 'remote' || p?.kind === 'array')) return undefined;
  return parts.every((p) => p !== undefined) ? { kind: 'union', of: parts as TypeCheck[] } : undefined;
}

/** null and undefined beside a remote result (other members keep the declared type). */
function simpleOf(type: ts.Type): TypeCheck | undefined {
  if (type.flags & ts.TypeFlags.Null) return { kind: 'null' };
  if (type.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)) return { kind: 'undefined' };
  return undefined;
}
