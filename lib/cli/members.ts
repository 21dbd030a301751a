// One interface's members, read from its resolved type (inherited and merged members included):
// methods and function-typed properties (called), data properties (read and, unless read-only,
// written: COM's propget/propput), the object's own call signature, an index signature. Each with
// the checks of its parameters and the proxy's declaration of each of its signatures.
import ts from 'typescript';
import { isRefused, type CheckBuilder } from './check-builder.js';
import type { Check, MemberIR, ParamIR, ResultMode, SignatureIR } from './ir.js';
import { labelOf } from './labels.js';
import { CannotPrint, keyText, paramName, type Scope, type TypePrinter } from './type-printer.js';
import { isHidden, isReadonlyMember, isThisType, isWellKnownSymbolMember, memberName, type TypeKinds } from './type-kinds.js';

/** What describing one interface's members needs. */
export interface MemberContext {
  readonly checker: ts.TypeChecker;
  readonly kinds: TypeKinds;
  readonly checks: CheckBuilder;
  readonly printer: TypePrinter;
  /** The interface's name, its type as the generated file names it, and its type parameters. */
  readonly name: string;
  readonly typeRef: string;
  readonly scope: Scope;
  /** Report a member that cannot be generated, at a node (or the interface when undefined). */
  problem(at: ts.Node | undefined, message: string): void;
}

type Draft = Omit<MemberIR, 'hash'> & { readonly resultKey: string };

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Describe every member of `type`; undefined when one of them cannot be generated (problems say why). */
export function describeMembers(ctx: MemberContext, type: ts.Type): Draft[] | undefined {
  const { checker } = ctx;
  const members: Draft[] = [];
  let failed = false;
  const refuse = (at: ts.Node | undefined, message: string): void => {
    failed = true;
    ctx.problem(at, message);
  };
  for (const sig of type.getConstructSignatures().slice(0, 1)) {
    refuse(sig.getDeclaration(), `${ctx.name}: a construct signature cannot be called across apartments; expose a factory method`);
  }
  if (type.getCallSignatures().length > 0) {
    const sigs = type.getCallSignatures();
    const m = callable(ctx, refuse, '()', 'call', sigs, false, sigs[0]!.getDeclaration());
    if (m) members.push(m);
  }
  for (const p of checker.getPropertiesOfType(type)) {
    // Private and protected members (of a class the interface extends) are not part of what callers see.
    if (isHidden(p)) continue;
    const name = memberName(p);
    const at = p.declarations?.[0];
    if (name.startsWith('[') && !isWellKnownSymbolMember(p)) {
      // An optional one (EventEmitter's captureRejectionSymbol) is left out: an object without it
      // still implements the interface, and no other apartment could name it.
      if (!(p.flags & ts.SymbolFlags.Optional)) refuse(at, `${ctx.name}.${name}: a member keyed by a unique symbol cannot be named in another apartment; give it a string name`);
      continue;
    }
    if (name === 'then' || name === 'constructor') {
      refuse(at, `${ctx.name}.${name}: a member named '${name}' cannot be generated (a proxy with it would ${name === 'then' ? 'look like a promise' : 'clash with its class'}); rename it`);
      continue;
    }
    const propType = checker.getTypeOfSymbol(p);
    if (ctx.kinds.isCallableMember(p)) {
      const nonNull = checker.getNonNullableType(propType);
      const optional = (p.flags & ts.SymbolFlags.Optional) !== 0 || nonNull !== propType;
      const m = callable(ctx, refuse, name, 'method', checker.getSignaturesOfType(nonNull, ts.SignatureKind.Call), optional, at);
      if (m) members.push(m);
      continue;
    }
    // A read sends the value back like a result (a promise is awaited first); a write checks it.
    const readonly = isReadonlyMember(p);
    const value = readonly ? undefined : checkOf(ctx, refuse, at, `${ctx.name}.${name}`, propType);
    if (!readonly && !value) continue;
    const indexKey = `[${typeKeyText(name)}]`;
    const awaited = checker.getAwaitedType(propType) ?? propType;
    const typeText = printOr(() => ctx.printer.type(awaited, ctx.scope, 'result'), `Awaited<${ctx.typeRef}${indexKey}>`);
    const mode: ResultMode = ctx.kinds.byReference(checker.getNonNullableType(awaited)) ? 'byref' : 'value';
    members.push({ name, kind: 'get', access: access(name), proxyName: keyText(`get_${name}`), optional: false, result: mode, resultKey: ctx.checks.typeKey(awaited), signatures: [{ params: [], proxy: `(): Promise<${typeText}>` }] });
    if (value) {
      const paramText = printOr(() => ctx.printer.type(propType, ctx.scope, 'param'), `${ctx.typeRef}${indexKey}`);
      const param: ParamIR = { name: 'value', check: value, label: labelOf(value, ctx.checks.shapes), optional: false, rest: false };
      members.push({ name, kind: 'set', access: access(name), proxyName: keyText(`put_${name}`), optional: false, result: 'value', resultKey: 'void', signatures: [{ params: [param], proxy: `(value: ${paramText}): Promise<void>` }] });
    }
  }
  for (const info of checker.getIndexInfosOfType(type)) {
    const key = info.keyType.flags & ts.TypeFlags.Number ? 'number' : info.keyType.flags & ts.TypeFlags.String ? 'string' : undefined;
    if (!key) {
      refuse(info.declaration, `${ctx.name}: an index signature keyed by ${checker.typeToString(info.keyType)} cannot be called across apartments`);
      continue;
    }
    const value = info.isReadonly ? undefined : checkOf(ctx, refuse, info.declaration, `${ctx.name}[${key}]`, info.type);
    if (!info.isReadonly && !value) continue;
    const name = `[key: ${key}]`;
    const keyParam: ParamIR = { name: 'key', check: { k: 'prim', t: key }, label: key, optional: false, rest: false };
    const typeText = printOr(() => ctx.printer.type(info.type, ctx.scope, 'result'), `${ctx.typeRef}[${key}]`);
    members.push({ name, kind: 'get', access: '', proxyName: 'get_Item', optional: false, result: 'value', resultKey: ctx.checks.typeKey(info.type), signatures: [{ params: [keyParam], proxy: `(key: ${key}): Promise<${typeText}>` }] });
    if (value) {
      const paramText = printOr(() => ctx.printer.type(info.type, ctx.scope, 'param'), `${ctx.typeRef}[${key}]`);
      const valueParam: ParamIR = { name: 'value', check: value, label: labelOf(value, ctx.checks.shapes), optional: false, rest: false };
      members.push({ name, kind: 'set', access: '', proxyName: 'put_Item', optional: false, result: 'value', resultKey: 'void', signatures: [{ params: [keyParam, valueParam], proxy: `(key: ${key}, value: ${paramText}): Promise<void>` }] });
    }
  }
  const seen = new Map<string, string>();
  for (const m of members) {
    const other = seen.get(m.proxyName);
    if (other !== undefined) refuse(undefined, `${ctx.name}: the proxy would have two members named ${m.proxyName} (for ${other} and ${m.name}); rename one of them`);
    seen.set(m.proxyName, m.name);
  }
  return failed ? undefined : members;
}

/** How the stub reaches a member on the target object. */
function access(name: string): string {
  return IDENTIFIER.test(name) ? `.${name}` : name.startsWith('[') ? name : `[${JSON.stringify(name)}]`;
}

/** The key of an indexed access type for a member: `'name'` or `typeof Symbol.iterator`. */
function typeKeyText(name: string): string {
  return name.startsWith('[') ? `typeof ${name.slice(1, -1)}` : JSON.stringify(name);
}

function printOr(print: () => string, fallback: string): string {
  try {
    return print();
  } catch (err) {
    if (err instanceof CannotPrint) return fallback;
    throw err;
  }
}

function checkOf(ctx: MemberContext, refuse: (at: ts.Node | undefined, m: string) => void, at: ts.Node | undefined, path: string, type: ts.Type): Check | undefined {
  const built = ctx.checks.build(type);
  if (!isRefused(built)) return built;
  refuse(at, `${path}${built.path.join('')}: ${built.reason}`);
  return undefined;
}

function callable(ctx: MemberContext, refuse: (at: ts.Node | undefined, m: string) => void, name: string, kind: 'method' | 'call', sigs: readonly ts.Signature[], optional: boolean, at: ts.Node | undefined): Draft | undefined {
  const { checker } = ctx;
  const where = kind === 'call' ? `${ctx.name}()` : `${ctx.name}.${name}`;
  const signatures: SignatureIR[] = [];
  const modes = new Set<ResultMode>();
  const resultKeys: string[] = [];
  const indexed = kind === 'call' ? ctx.typeRef : `NonNullable<${ctx.typeRef}[${typeKeyText(name)}]>`;
  for (const sig of sigs) {
    const params = paramsOf(ctx, refuse, sig, where);
    if (!params) return undefined;
    const returned = checker.getReturnTypeOfSignature(sig);
    const awaited = checker.getAwaitedType(returned) ?? returned;
    const mode = resultMode(ctx, sig, returned, awaited, kind);
    modes.add(mode);
    resultKeys.push(ctx.checks.typeKey(awaited));
    const result = (rt: ts.Type, scope: Scope): string => {
      if (mode === 'this') return 'Promise<this>';
      if (mode === 'subscription') return 'Promise<$RemoteSubscription>';
      return `Promise<${ctx.printer.type(checker.getAwaitedType(rt) ?? rt, scope, 'result')}>`;
    };
    const fallbackResult = mode === 'this' ? 'Promise<this>' : mode === 'subscription' ? 'Promise<$RemoteSubscription>' : `Promise<Awaited<ReturnType<${indexed}>>>`;
    const proxy = printOr(() => ctx.printer.signature(sig, ctx.scope, { dropThis: true, params: 'param', result }), `(...args: Parameters<${indexed}>): ${fallbackResult}`);
    signatures.push({ params, proxy });
  }
  // With several overloads the proxy keeps each; the stub accepts any of them.
  const result: ResultMode = modes.size === 1 ? [...modes][0]! : 'value';
  if (signatures.length === 0) {
    refuse(at, `${where}: no call signature`);
    return undefined;
  }
  return { name, kind, access: kind === 'call' ? '' : access(name), proxyName: kind === 'call' ? 'call' : keyText(name), optional, result, resultKey: resultKeys.join('|'), signatures };
}

/** What the stub does with a result, from its declared type. */
function resultMode(ctx: MemberContext, sig: ts.Signature, returned: ts.Type, awaited: ts.Type, kind: 'method' | 'call'): ResultMode {
  if (kind === 'method' && (isThisType(returned) || isThisType(awaited) || returnsThis(sig))) return 'this';
  const target = ctx.checker.getNonNullableType(awaited);
  // An iterator or generator cannot be copied, but it can be used through a proxy.
  if (ctx.kinds.library(target)?.kind === 'cannot-cross' && ctx.kinds.callableMembers(target).length > 0) return 'byref';
  const methods = ctx.kinds.byReference(target);
  if (!methods) {
    const element = ctx.checker.isArrayType(target) ? ctx.checker.getTypeArguments(target as ts.TypeReference)[0] : undefined;
    return element && ctx.kinds.byReference(ctx.checker.getNonNullableType(element)) ? 'byref' : 'value';
  }
  const first = sig.getParameters()[0];
  const firstType = first ? ctx.checker.getNonNullableType(ctx.checker.getTypeOfSymbol(first)) : undefined;
  const takesListener = firstType !== undefined && firstType.getCallSignatures().length > 0;
  return takesListener && methods.includes('dispose') ? 'subscription' : 'byref';
}

/**
 * Whether a signature is declared to return `this` (or a promise of it). Read from the declaration:
 * in the members of a generic interface's resolved type, the checker has already replaced `this`
 * with the interface type.
 */
function returnsThis(sig: ts.Signature): boolean {
  const node = (sig.getDeclaration() as ts.SignatureDeclaration | undefined)?.type;
  if (!node) return false;
  if (ts.isThisTypeNode(node)) return true;
  return ts.isTypeReferenceNode(node) && node.typeArguments?.length === 1 && ts.isThisTypeNode(node.typeArguments[0]!) && /^(Promise|PromiseLike|Thenable)$/.test(node.typeName.getText());
}

/** The parameters of a signature, each with its check; a tuple rest parameter is spread into positions. */
function paramsOf(ctx: MemberContext, refuse: (at: ts.Node | undefined, m: string) => void, sig: ts.Signature, where: string): ParamIR[] | undefined {
  const { checker } = ctx;
  const out: ParamIR[] = [];
  const list = sig.getParameters();
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    const decl = p.valueDeclaration as ts.ParameterDeclaration | undefined;
    const isParam = decl !== undefined && ts.isParameter(decl);
    const rest = isParam && decl.dotDotDotToken !== undefined;
    const name = paramName(p, i);
    const type = checker.getTypeOfSymbol(p);
    const path = `${where}.${name}`;
    if (!rest) {
      const check = checkOf(ctx, refuse, decl, path, type);
      if (!check) return undefined;
      out.push({ name, check, label: labelOf(check, ctx.checks.shapes), optional: isParam && checker.isOptionalParameter(decl), rest: false });
      continue;
    }
    const restType = restArray(checker, type);
    if (restType && checker.isTupleType(restType)) {
      const tuple = ctx.checks.build(restType);
      if (isRefused(tuple)) return void refuse(decl, `${path}${tuple.path.join('')}: ${tuple.reason}`);
      if (tuple.k !== 'tuple') return void refuse(decl, `${path}: a rest parameter of a tuple type the generator cannot read`);
      const labels = (restType as ts.TupleTypeReference).target.labeledElementDeclarations;
      tuple.items.forEach((item, j) => {
        const label = labels?.[j]?.name;
        const itemName = label && ts.isIdentifier(label) ? label.text : `${name}[${j}]`;
        out.push({ name: itemName, check: item.check, label: labelOf(item.check, ctx.checks.shapes), optional: item.optional || item.rest, rest: item.rest });
      });
      continue;
    }
    const element = restType ? checker.getTypeArguments(restType as ts.TypeReference)[0] : undefined;
    const check = element ? checkOf(ctx, refuse, decl, `${path}[0]`, element) : { k: 'any' as const };
    if (!check) return undefined;
    out.push({ name, check, label: labelOf(check, ctx.checks.shapes), optional: true, rest: true });
  }
  return out;
}

/** A rest parameter's array or tuple type (a generic one through its constraint). */
function restArray(checker: ts.TypeChecker, type: ts.Type): ts.Type | undefined {
  const t = type.flags & ts.TypeFlags.Instantiable ? checker.getBaseConstraintOfType(type) ?? type : type;
  return checker.isArrayType(t) || checker.isTupleType(t) ? t : undefined;
}
