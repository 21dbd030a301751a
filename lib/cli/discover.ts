// Which declarations to generate: interfaces (and object type aliases) tagged `@remote`, or named
// on the command line, anywhere in the input files — at the top level, in namespaces and in
// `declare module` blocks. A name that matches nothing, or a tagged declaration the generated file
// cannot import, is a problem, never a silent skip.
import ts from 'typescript';
import type { Problem } from './ir.js';

/** One declaration to generate. */
export interface Target {
  readonly symbol: ts.Symbol;
  readonly declaration: ts.InterfaceDeclaration | ts.TypeAliasDeclaration;
  /** Its name, with the namespaces around it: `WebSocket.ServerOptions`. */
  readonly qualifiedName: string;
  readonly file: string;
  /** The id a `@remote <id>` tag declares, if any. */
  readonly declaredId: string | undefined;
}

const DECLARED_ID = /^[\w.:@/#-]+$/;

export function problemAt(node: ts.Node, message: string): Problem {
  const sf = node.getSourceFile();
  const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  return { file: sf.fileName, line: line + 1, column: character + 1, message };
}

function remoteTag(node: ts.Node): ts.JSDocTag | undefined {
  return ts.getJSDocTags(node).find((t) => t.tagName.text === 'remote');
}

function tagText(tag: ts.JSDocTag): string {
  const c = tag.comment;
  return (typeof c === 'string' ? c : c ? c.map((part) => part.text).join('') : '').trim();
}

/** Visit every interface and type alias of a file, with the namespace path around it. */
function eachDeclaration(sf: ts.SourceFile, visit: (d: ts.InterfaceDeclaration | ts.TypeAliasDeclaration, qualified: string) => void): void {
  const walk = (statements: readonly ts.Statement[], prefix: string): void => {
    for (const s of statements) {
      if (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) visit(s, `${prefix}${s.name.text}`);
      else if (ts.isModuleDeclaration(s)) {
        // A `declare module 'x'` block starts a new module; a namespace adds to the path.
        const inner = ts.isStringLiteral(s.name) ? '' : `${prefix}${s.name.text}.`;
        let body = s.body;
        let path = inner;
        while (body && ts.isModuleDeclaration(body)) {
          path = `${path}${body.name.text}.`;
          body = body.body;
        }
        if (body && ts.isModuleBlock(body)) walk(body.statements, path);
      }
    }
  };
  walk(sf.statements, '');
}

/** Find the declarations to generate in `files`; `names` are qualified or plain names to add. */
export function discover(program: ts.Program, checker: ts.TypeChecker, files: readonly string[], names: readonly string[]): { targets: Target[]; problems: Problem[]; remote: Set<ts.Symbol> } {
  const problems: Problem[] = [];
  const targets: Target[] = [];
  const matched = new Set<string>();
  const seen = new Set<ts.Symbol>();
  const inputs = new Set(files);
  const remote = new Set<ts.Symbol>();
  for (const sf of program.getSourceFiles()) {
    const input = inputs.has(sf.fileName);
    // Tags anywhere in the project mark interfaces whose values travel by reference.
    if (!input && (program.isSourceFileDefaultLibrary(sf) || sf.fileName.includes('/node_modules/'))) continue;
    eachDeclaration(sf, (decl, qualified) => {
      const symbol = checker.getSymbolAtLocation(decl.name);
      if (!symbol) return;
      const tag = remoteTag(decl);
      const byName = names.includes(qualified) || names.includes(decl.name.text);
      if (tag || byName) remote.add(symbol);
      if (!input || (!tag && !byName)) return;
      if (byName) matched.add(names.includes(qualified) ? qualified : decl.name.text);
      if (seen.has(symbol)) return;
      seen.add(symbol);
      if (ts.isTypeAliasDeclaration(decl)) {
        const type = checker.getDeclaredTypeOfSymbol(symbol);
        const objectLike = type.flags & (ts.TypeFlags.Object | ts.TypeFlags.Intersection) && (checker.getPropertiesOfType(type).length > 0 || type.getCallSignatures().length > 0);
        if (!objectLike) {
          problems.push(problemAt(decl, `type ${qualified} is not an object type; only interfaces and aliases of object types can be remote`));
          return;
        }
      }
      const declaredId = tag ? tagText(tag) : '';
      if (declaredId && !DECLARED_ID.test(declaredId)) {
        problems.push(problemAt(decl, `interface ${qualified}: @remote takes an optional interface id (letters, digits and . : @ / # - _), not '${declaredId}'`));
        return;
      }
      targets.push({ symbol, declaration: decl, qualifiedName: qualified, file: sf.fileName, declaredId: declaredId || undefined });
    });
  }
  for (const name of names) {
    if (!matched.has(name)) problems.push({ file: '(command line)', line: 0, column: 0, message: `--interface ${name}: no interface or object type alias of that name in the input files` });
  }
  return { targets, problems, remote };
}
