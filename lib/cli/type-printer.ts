// Writes resolved types back as TypeScript text that is valid in the generated file: declared names
// through the generated file's imports (`$1.TextDocumentItem`), type parameters by name where they
// are in scope, literals and structure as written. The proxy's signatures are printed with it, so
// they keep overloads and generics. A type it cannot name throws CannotPrint; the caller then falls
// back to indexed access on the interface (`Parameters<$1.Foo['m']>`).
import ts from 'typescript';
import type { ImportTable, ModuleAccess } from './module-access.js';
import { isThisType, type TypeKinds } from './type-kinds.js';

export class CannotPrint extends Error {}

/**
 * Where a type appears in a proxy: `param` (a by-reference type may also be given as a proxy the
 * caller holds), `result` (a by-reference type arrives as a proxy, a function as a remote function),
 * or `plain` (as declared; inside function types, where the direction flips).
 */
export type Position = 'plain' | 'param' | 'result';

export type Scope = ReadonlySet<ts.Symbol>;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const RESERVED = new Set(('break case catch class const continue debugger default delete do else enum export extends false finally for function if import in '
  + 'instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package private protected public await').split(' '));

/** A parameter name usable in a signature (`arg2` for a destructured or reserved one). */
export function paramName(p: ts.Symbol, index: number): string {
  const name = p.getName();
  return IDENTIFIER.test(name) && !name.startsWith('__') && !RESERVED.has(name) ? name : `arg${index}`;
}

/** A property key as written in a type or class body. */
export function keyText(name: string): string {
  return IDENTIFIER.test(name) || /^\[Symbol\.\w+\]$/.test(name) ? name : JSON.stringify(name);
}

export class TypePrinter {
  private readonly stack = new Set<ts.Type>();

  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly access: ModuleAccess,
    private readonly kinds: TypeKinds,
    private readonly imports: ImportTable,
  ) {}

  /** A reference to a declared symbol, or CannotPrint. */
  ref(symbol: ts.Symbol): string {
    const r = this.access.reference(symbol, this.imports);
    if (!r) throw new CannotPrint(`${symbol.getName()} is not exported`);
    return r;
  }

  type(t: ts.Type, scope: Scope, pos: Position = 'plain'): string {
    if (pos !== 'plain' && !(t.flags & ts.TypeFlags.Union)) {
      const byRef = this.kinds.byReference(t);
      if (byRef) {
        const declared = this.type(t, scope, 'plain');
        return pos === 'param' ? `${declared} | $Remote<${declared}>` : `$Remote<${declared}>`;
      }
      // An async generator arrives as the runtime's async iterable iterator (next and return; no throw).
      const stream = pos === 'result' ? this.kinds.library(t) : undefined;
      if (stream?.kind === 'stream' && t.getSymbol()?.getName() === 'AsyncGenerator') {
        const item = this.checker.getTypeArguments(t as ts.TypeReference)[0];
        return `AsyncIterableIterator<${item ? this.type(item, scope, 'plain') : 'unknown'}>`;
      }
      if (pos === 'result' && t.flags & ts.TypeFlags.Object && !this.checker.isArrayType(t) && !this.checker.isTupleType(t) && t.getCallSignatures().length > 0 && this.checker.getPropertiesOfType(t).length === 0) {
        return `$RemoteMethod<${this.type(t, scope, 'plain')}>`;
      }
    }
    if (t.aliasSymbol && !(t.flags & ts.TypeFlags.TypeParameter) && (pos === 'plain' || !this.holdsByRef(t))) {
      const r = this.access.reference(t.aliasSymbol, this.imports);
      if (r) return `${r}${this.args(t.aliasTypeArguments, scope)}`;
    }
    return this.structure(t, scope, pos);
  }

  /** Whether a by-reference type appears where the position changes how it is printed. */
  private holdsByRef(t: ts.Type, depth = 0): boolean {
    if (depth > 3) return false;
    if (t.isUnion()) return t.types.some((u) => this.holdsByRef(u, depth + 1));
    if (this.kinds.byReference(t)) return true;
    if (this.checker.isArrayType(t)) return this.holdsByRef(this.checker.getTypeArguments(t as ts.TypeReference)[0]!, depth + 1);
    return false;
  }

  private args(list: readonly ts.Type[] | undefined, scope: Scope): string {
    return list && list.length > 0 ? `<${list.map((a) => this.type(a, scope)).join(', ')}>` : '';
  }

  private structure(t: ts.Type, scope: Scope, pos: Position): string {
    const f = t.flags;
    const F = ts.TypeFlags;
    if (f & F.Any) return 'any';
    if (f & F.Unknown) return 'unknown';
    if (f & F.EnumLiteral && !t.isUnion()) return this.enumMember(t);
    if (f & F.StringLiteral) return JSON.stringify((t as ts.StringLiteralType).value);
    if (f & F.NumberLiteral) return String((t as ts.NumberLiteralType).value);
    if (f & F.BigIntLiteral) {
      const v = (t as ts.BigIntLiteralType).value;
      return `${v.negative ? '-' : ''}${v.base10Value}n`;
    }
    if (f & F.BooleanLiteral) return (t as { intrinsicName?: string }).intrinsicName === 'true' ? 'true' : 'false';
    if (f & F.String) return 'string';
    if (f & F.Number) return 'number';
    if (f & F.Boolean) return 'boolean';
    if (f & F.BigInt) return 'bigint';
    if (f & F.ESSymbol) return 'symbol';
    if (f & F.Void) return 'void';
    if (f & F.Undefined) return 'undefined';
    if (f & F.Null) return 'null';
    if (f & F.Never) return 'never';
    if (f & F.NonPrimitive) return 'object';
    if (f & F.UniqueESSymbol) return `typeof ${this.ref(t.getSymbol()!)}`;
    if (f & F.TypeParameter) {
      if (isThisType(t)) return 'this';
      const s = t.getSymbol();
      if (s && scope.has(s)) return s.getName();
      throw new CannotPrint('a type parameter out of scope');
    }
    if (t.isUnion()) return this.union(t, scope, pos);
    if (t.isIntersection()) return t.types.map((u) => wrap(this.type(u, scope, pos), true)).join(' & ');
    if (f & F.Index) return `keyof ${wrap(this.type((t as ts.IndexType).type, scope), true)}`;
    if (f & F.IndexedAccess) {
      const ia = t as ts.IndexedAccessType;
      return `${wrap(this.type(ia.objectType, scope), true)}[${this.type(ia.indexType, scope)}]`;
    }
    if (f & F.Substitution) return this.type((t as ts.SubstitutionType).baseType, scope, pos);
    if (f & F.TemplateLiteral) {
      const tl = t as ts.TemplateLiteralType;
      const esc = (s: string): string => s.replace(/[`\\$]/g, '\\$&');
      return `\`${esc(tl.texts[0]!)}${tl.types.map((u, i) => `\${${this.type(u, scope)}}${esc(tl.texts[i + 1]!)}`).join('')}\``;
    }
    if (f & F.StringMapping) return `${t.getSymbol()!.getName()}<${this.type((t as ts.StringMappingType).type, scope)}>`;
    if (f & F.Object) return this.object(t as ts.ObjectType, scope, pos);
    throw new CannotPrint(`a type the printer does not know (${this.checker.typeToString(t)})`);
  }

  private enumMember(t: ts.Type): string {
    const member = t.getSymbol();
    const decl = member?.valueDeclaration;
    if (member && decl && ts.isEnumMember(decl)) {
      const enumSymbol = this.checker.getSymbolAtLocation(decl.parent.name);
      const r = enumSymbol && this.access.reference(enumSymbol, this.imports);
      // `(typeof Status)["in-progress"]` for a member whose name is no identifier (`Status."in-progress"` is no type).
      if (r) return IDENTIFIER.test(member.getName()) ? `${r}.${member.getName()}` : `(typeof ${r})[${JSON.stringify(member.getName())}]`;
    }
    const v = (t as ts.LiteralType).value;
    return typeof v === 'string' ? JSON.stringify(v) : String(v);
  }

  private union(t: ts.UnionType, scope: Scope, pos: Position): string {
    const s = t.getSymbol();
    if (t.flags & ts.TypeFlags.EnumLiteral && s && s.flags & ts.SymbolFlags.Enum) {
      const r = this.access.reference(s, this.imports);
      if (r) return r;
    }
    const parts = t.types.map((u) => wrap(this.type(u, scope, pos)));
    // true | false is boolean; members in a fixed order (the checker's depends on the program).
    const collapsed = parts.includes('true') && parts.includes('false') ? [...parts.filter((p) => p !== 'true' && p !== 'false'), 'boolean'] : parts;
    const last = (p: string): number => (p === 'undefined' ? 2 : p === 'null' ? 1 : 0);
    return [...new Set(collapsed)].sort((a, b) => last(a) - last(b) || (a < b ? -1 : a > b ? 1 : 0)).join(' | ');
  }

  private object(t: ts.ObjectType, scope: Scope, pos: Position): string {
    const checker = this.checker;
    if (checker.isArrayType(t)) {
      const element = this.type(checker.getTypeArguments(t as ts.TypeReference)[0]!, scope, pos);
      const readonly = t.getSymbol()?.getName() === 'ReadonlyArray';
      return `${readonly ? 'readonly ' : ''}${wrap(element, true)}[]`;
    }
    if (checker.isTupleType(t)) return this.tuple(t as ts.TupleTypeReference, scope, pos);
    const symbol = t.getSymbol();
    if (t.objectFlags & ts.ObjectFlags.Reference && symbol && !symbol.getName().startsWith('__')) {
      const ref = t as ts.TypeReference;
      const count = (ref.target as ts.InterfaceType).typeParameters?.length ?? 0;
      const r = this.access.reference(ref.target.getSymbol() ?? symbol, this.imports);
      if (r) return `${r}${this.args(checker.getTypeArguments(ref).slice(0, count), scope)}`;
    } else if (symbol && symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class) && !symbol.getName().startsWith('__') && !(t.objectFlags & ts.ObjectFlags.Anonymous)) {
      const r = this.access.reference(symbol, this.imports);
      if (r) return r;
    } else if (symbol && t.objectFlags & ts.ObjectFlags.Anonymous && symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Function | ts.SymbolFlags.ValueModule | ts.SymbolFlags.Enum)) {
      return `typeof ${this.ref(symbol)}`;
    }
    if (t.objectFlags & ts.ObjectFlags.Mapped) throw new CannotPrint('a mapped type without a name');
    return this.literal(t, scope, pos);
  }

  private tuple(t: ts.TupleTypeReference, scope: Scope, pos: Position): string {
    const target = t.target;
    const args = this.checker.getTypeArguments(t);
    const labels = target.labeledElementDeclarations;
    const named = labels !== undefined && labels.length === target.elementFlags.length && labels.every((l) => l !== undefined);
    const items = target.elementFlags.map((f, i) => {
      const type = this.type(args[i]!, scope, pos);
      const label = named ? (labels[i]!.name as ts.Identifier).text : undefined;
      if (f & ts.ElementFlags.Rest) return label ? `...${label}: ${wrap(type, true)}[]` : `...${wrap(type, true)}[]`;
      if (f & ts.ElementFlags.Variadic) return label ? `...${label}: ${type}` : `...${type}`;
      const optional = (f & ts.ElementFlags.Optional) !== 0;
      return label ? `${label}${optional ? '?' : ''}: ${type}` : `${type}${optional ? '?' : ''}`;
    });
    return `${target.readonly ? 'readonly ' : ''}[${items.join(', ')}]`;
  }

  /** An object type written out member by member (a type literal, or a type nobody exports). */
  private literal(t: ts.ObjectType, scope: Scope, pos: Position): string {
    if (this.stack.has(t)) throw new CannotPrint('a recursive type without a name');
    this.stack.add(t);
    try {
      const calls = t.getCallSignatures();
      const constructs = t.getConstructSignatures();
      const props = this.checker.getPropertiesOfType(t);
      const indexes = this.checker.getIndexInfosOfType(t);
      if (props.length === 0 && indexes.length === 0 && calls.length + constructs.length === 1) {
        const sig = (calls[0] ?? constructs[0])!;
        return `${calls.length ? '' : 'new '}${this.signature(sig, scope, { arrow: true })}`;
      }
      const members: string[] = [];
      for (const sig of calls) members.push(this.signature(sig, scope, {}));
      for (const sig of constructs) members.push(`new ${this.signature(sig, scope, {})}`);
      for (const info of indexes) {
        members.push(`${info.isReadonly ? 'readonly ' : ''}[key: ${this.type(info.keyType, scope)}]: ${this.type(info.type, scope, pos)}`);
      }
      for (const p of props) {
        const name = p.getName();
        if (name.startsWith('__@') || name.startsWith('__#')) throw new CannotPrint('a member keyed by a symbol');
        const optional = p.flags & ts.SymbolFlags.Optional ? '?' : '';
        const type = this.checker.getTypeOfSymbol(p);
        if (p.flags & ts.SymbolFlags.Method) {
          for (const sig of this.checker.getSignaturesOfType(this.checker.getNonNullableType(type), ts.SignatureKind.Call)) {
            members.push(`${keyText(name)}${optional}${this.signature(sig, scope, {})}`);
          }
        } else {
          const readonly = (p.declarations ?? []).some((d) => ts.getCombinedModifierFlags(d as ts.Declaration) & ts.ModifierFlags.Readonly) ? 'readonly ' : '';
          members.push(`${readonly}${keyText(name)}${optional}: ${this.type(type, scope, pos)}`);
        }
      }
      return members.length === 0 ? '{}' : `{ ${members.join('; ')} }`;
    } finally {
      this.stack.delete(t);
    }
  }

  /** A type parameter list, adding its names to `scope`. */
  typeParams(params: readonly ts.TypeParameter[] | undefined, scope: Set<ts.Symbol>): string {
    if (!params || params.length === 0) return '';
    for (const tp of params) scope.add(tp.getSymbol()!);
    return `<${params.map((tp) => {
      const c = tp.getConstraint();
      const d = tp.getDefault();
      const decl = tp.getSymbol()!.declarations?.find(ts.isTypeParameterDeclaration);
      // The constraint as declared (`P extends K`, `E extends Extract<keyof Events, string>`), not the
      // checker's resolved base constraint, which loses the other type parameters it names.
      const declared = decl?.constraint ? this.checker.getTypeFromTypeNode(decl.constraint) : undefined;
      const constraint = (decl?.constraint && this.keyofNode(decl.constraint, scope)) ?? (declared ? this.type(declared, scope) : c ? this.type(c, scope) : undefined);
      return `${tp.getSymbol()!.getName()}${constraint ? ` extends ${constraint}` : ''}${d ? ` = ${this.type(d, scope)}` : ''}`;
    }).join(', ')}>`;
  }

  /**
   * `keyof T` for a type parameter T in scope, as declared: the checker may already have resolved it
   * through T's constraint (to \`string | number | symbol\`), and \`Events[E]\` then no longer compiles.
   */
  private keyofNode(node: ts.TypeNode, scope: Scope): string | undefined {
    if (!ts.isTypeOperatorNode(node) || node.operator !== ts.SyntaxKind.KeyOfKeyword || !ts.isTypeReferenceNode(node.type) || node.type.typeArguments) return undefined;
    const symbol = this.checker.getSymbolAtLocation(node.type.typeName);
    return symbol && scope.has(symbol) ? `keyof ${symbol.getName()}` : undefined;
  }

  /**
   * A signature: `<T>(a: A, b?: B): R`, or `(a: A) => R` with `arrow`. `params` prints parameter
   * types (by default as declared); `result` the result (by default as declared); `dropThis` leaves
   * out a `this` parameter (a proxy's own `this` is the proxy).
   */
  signature(sig: ts.Signature, outer: Scope, o: { arrow?: boolean; dropThis?: boolean; params?: Position; result?: (returnType: ts.Type, scope: Scope) => string }): string {
    const scope = new Set(outer);
    const tps = this.typeParams(sig.getTypeParameters(), scope);
    const params: string[] = [];
    if (!o.dropThis && sig.thisParameter) params.push(`this: ${this.type(this.checker.getTypeOfSymbol(sig.thisParameter), scope)}`);
    sig.getParameters().forEach((p, i) => {
      const decl = p.valueDeclaration as ts.ParameterDeclaration | undefined;
      const rest = decl !== undefined && ts.isParameter(decl) && decl.dotDotDotToken !== undefined;
      const optional = !rest && decl !== undefined && ts.isParameter(decl) && this.checker.isOptionalParameter(decl);
      params.push(`${rest ? '...' : ''}${paramName(p, i)}${optional ? '?' : ''}: ${this.type(this.checker.getTypeOfSymbol(p), scope, o.params ?? 'plain')}`);
    });
    const returnType = this.checker.getReturnTypeOfSignature(sig);
    const result = o.result ? o.result(returnType, scope) : this.type(returnType, scope);
    return `${tps}(${params.join(', ')})${o.arrow ? ' =>' : ':'} ${result}`;
  }
}

/**
 * Parenthesize a type where an operator around it would bind to part of it: a function type in a
 * union; with `strong` (an array element, an intersection member, an indexed or `keyof` operand)
 * also a union or intersection.
 */
function wrap(text: string, strong = false): string {
  const needs = /=>|^new |^keyof |^typeof |^readonly /.test(text) || (strong && hasTopLevelOperator(text));
  return needs && !(text.startsWith('(') && text.endsWith(')') && balanced(text.slice(1, -1))) ? `(${text})` : text;
}

/** Whether `|` or `&` joins parts of `text` outside any brackets and string literals (`A<x | y>` has none; `A<x> | B` has one). */
function hasTopLevelOperator(text: string): boolean {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '(' || c === '[' || c === '{' || c === '<') depth++;
    else if (c === ')' || c === ']' || c === '}' || (c === '>' && text[i - 1] !== '=')) depth--;
    else if ((c === '|' || c === '&') && depth === 0) return true;
  }
  return false;
}

function balanced(s: string): boolean {
  let depth = 0;
  for (const c of s) {
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return false;
  }
  return depth === 0;
}
