// From the type checker's resolved types to run-time checks (IR). Object types become named shapes,
// one per type per generated file, checked by their data members; what structured clone copies as
// itself (Date, Map, typed arrays…) is checked by what it is; functions and types with methods only
// travel by reference. What cannot cross at all is refused with the path to it.
import ts from 'typescript';
import type { Check, PropIR, ShapeIR, TupleItemIR } from './ir.js';
import { labelOf } from './labels.js';
import type { ModuleAccess } from './module-access.js';
import { isAccessor, isFunctionLike, isHidden, isThisType, type TypeKinds } from './type-kinds.js';

/** A type that cannot cross an apartment boundary, and where inside the type it sits. */
export interface Refused {
  readonly k: 'refused';
  readonly reason: string;
  /** Path segments inside the type (`.options`, `.links`, `[0]`), outermost first. */
  readonly path: readonly string[];
}

export type Built = Check | Refused;

const ANY: Check = { k: 'any' };
const NEVER: Check = { k: 'union', of: [] };
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
/**
 * How deep checks are built inside one another before the rest takes anything: a generic that
 * grows as it recurses (`child?: Nested<T[]>`) is a new type at every level and would never end.
 */
const MAX_BUILD_DEPTH = 32;
/** How many instances of one generic declaration are checked inside one another. */
const MAX_GENERIC_NESTING = 3;

export function isRefused(b: Built): b is Refused {
  return b.k === 'refused';
}

/** Prefix a refusal's path. */
export function within(b: Refused, segment: string): Refused {
  return { k: 'refused', reason: b.reason, path: [segment, ...b.path] };
}

export function propSegment(name: string): string {
  return IDENTIFIER.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}

/** Builds the checks of one generated file: its shapes are shared by all its interfaces. */
export class CheckBuilder {
  readonly shapes = new Map<string, ShapeIR>();
  private readonly byType = new Map<ts.Type, Built>();
  private readonly building = new Map<ts.Type, string>();
  private readonly keyStack = new Set<ts.Type>();
  /** Types whose check is being built (outermost first): met again inside itself, a type takes anything there. */
  private readonly inProgress = new Set<ts.Type>();
  /** How many of those are instances of each generic declaration: one that nests itself with new arguments (`Nested<T[]>`) stops at MAX_GENERIC_NESTING. */
  private readonly genericsInProgress = new Map<ts.Type, number>();

  constructor(private readonly checker: ts.TypeChecker, private readonly kinds: TypeKinds, private readonly access: ModuleAccess) {}

  build(type: ts.Type): Built {
    const cached = this.byType.get(type);
    if (cached) return cached;
    const pending = this.building.get(type);
    if (pending) return { k: 'shape', id: pending };
    // A recursive shape calls its own check (above); a type that recurses otherwise (a union such as
    // a JSON value, an array of itself) is checked down to where it recurs, and takes anything there.
    if (this.inProgress.has(type) || this.inProgress.size >= MAX_BUILD_DEPTH) return ANY;
    const generic = type.flags & ts.TypeFlags.Object && (type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference ? (type as ts.TypeReference).target : undefined;
    const nesting = generic === undefined ? 0 : this.genericsInProgress.get(generic) ?? 0;
    if (nesting >= MAX_GENERIC_NESTING) return ANY;
    this.inProgress.add(type);
    if (generic !== undefined) this.genericsInProgress.set(generic, nesting + 1);
    try {
      const built = this.compute(type);
      this.byType.set(type, built);
      return built;
    } finally {
      this.inProgress.delete(type);
      if (generic !== undefined) this.genericsInProgress.set(generic, nesting);
    }
  }

  private compute(type: ts.Type): Built {
    const f = type.flags;
    const F = ts.TypeFlags;
    if (f & (F.Any | F.Unknown)) return ANY;
    if (f & F.Never) return NEVER;
    if (f & F.BooleanLiteral) return { k: 'lit', v: (type as { intrinsicName?: string }).intrinsicName === 'true' };
    if (f & F.StringLiteral) return { k: 'lit', v: (type as ts.StringLiteralType).value };
    if (f & F.NumberLiteral) return { k: 'lit', v: (type as ts.NumberLiteralType).value };
    if (f & F.BigIntLiteral) {
      const v = (type as ts.BigIntLiteralType).value;
      return { k: 'bigint-lit', v: `${v.negative ? '-' : ''}${v.base10Value}` };
    }
    if (f & (F.String | F.TemplateLiteral | F.StringMapping)) return { k: 'prim', t: 'string' };
    if (f & F.Number) return { k: 'prim', t: 'number' };
    if (f & F.Boolean) return { k: 'prim', t: 'boolean' };
    if (f & F.BigInt) return { k: 'prim', t: 'bigint' };
    if (f & (F.Void | F.Undefined)) return { k: 'prim', t: 'undefined' };
    if (f & F.Null) return { k: 'prim', t: 'null' };
    if (f & F.NonPrimitive) return { k: 'prim', t: 'object' };
    if (f & (F.ESSymbol | F.UniqueESSymbol)) return { k: 'refused', reason: 'a symbol cannot cross apartments; pass a string', path: [] };
    if (type.isUnion()) return this.union(type);
    if (type.isIntersection()) return this.intersection(type);
    if (f & (F.TypeParameter | F.Index | F.IndexedAccess | F.Conditional | F.Substitution)) {
      // Generic: checked against its constraint (an unconstrained type parameter takes anything).
      const c = this.checker.getBaseConstraintOfType(type);
      return c && c !== type ? this.build(c) : ANY;
    }
    if (f & F.Object) return this.object(type as ts.ObjectType);
    return ANY;
  }

  private union(type: ts.UnionType): Built {
    const parts = type.types.map((t) => this.build(t));
    const ok = parts.filter((p): p is Check => !isRefused(p));
    // A branch that cannot cross is left out: the value can still be any of the others.
    if (ok.length === 0) return parts[0] as Refused;
    const flat = ok.flatMap((p) => (p.k === 'union' ? p.of : [p]));
    if (flat.some((p) => p.k === 'any')) return ANY;
    const hasTrue = flat.some((p) => p.k === 'lit' && p.v === true);
    const hasFalse = flat.some((p) => p.k === 'lit' && p.v === false);
    const merged: Check[] = hasTrue && hasFalse ? [...flat.filter((p) => !(p.k === 'lit' && typeof p.v === 'boolean')), { k: 'prim', t: 'boolean' }] : flat;
    // A fixed order (the checker's depends on what else the program holds), without duplicates.
    const keyed = new Map(merged.map((c) => [checkKey(c), c]));
    const of = [...keyed.keys()].sort().map((k) => keyed.get(k)!);
    if (of.length === 1) return of[0]!;
    const s = type.getSymbol();
    // A numeric enum takes any number in TypeScript (flags combine: Flag.A | Flag.B), so its check does too.
    if (s && s.flags & ts.SymbolFlags.Enum && of.every((c) => c.k === 'lit' && typeof c.v === 'number')) return { k: 'prim', t: 'number' };
    const name = type.aliasSymbol ? this.label(type) : s && s.flags & ts.SymbolFlags.Enum ? s.getName() : undefined;
    return name && ok.length === parts.length ? { k: 'union', of, name } : { k: 'union', of };
  }

  private intersection(type: ts.IntersectionType): Built {
    // A branded primitive (`string & { __brand: 'Uri' }`) is checked as the primitive.
    const primitive = type.types.find((t) => t.flags & (ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BooleanLike | ts.TypeFlags.BigIntLike));
    if (primitive) return this.build(primitive);
    if (type.types.every((t) => isFunctionLike(this.checker, t))) return { k: 'prim', t: 'function' };
    return this.shape(type);
  }

  private object(type: ts.ObjectType): Built {
    const checker = this.checker;
    if (checker.isArrayType(type)) {
      const element = this.build(checker.getTypeArguments(type as ts.TypeReference)[0] ?? this.checker.getAnyType());
      return isRefused(element) ? within(element, '[0]') : { k: 'array', of: element };
    }
    if (checker.isTupleType(type)) return this.tuple(type as ts.TupleTypeReference);
    const lib = this.kinds.library(type);
    if (lib) {
      const args = (type.flags & ts.TypeFlags.Object && (type.objectFlags & ts.ObjectFlags.Reference)) ? checker.getTypeArguments(type as ts.TypeReference) : [];
      const arg = (i: number): Built => (args[i] ? this.build(args[i]) : ANY);
      switch (lib.kind) {
        case 'builtin':
          return { k: 'builtin', t: lib.name };
        case 'function':
          return { k: 'prim', t: 'function' };
        case 'any':
          return ANY;
        case 'cannot-cross':
          return { k: 'refused', reason: lib.reason, path: [] };
        case 'map': {
          const key = arg(0);
          const value = arg(1);
          if (isRefused(key)) return within(key, '.keys()[0]');
          if (isRefused(value)) return within(value, '.get()');
          return { k: 'map', key, value };
        }
        case 'set': {
          const element = arg(0);
          return isRefused(element) ? within(element, '.values()[0]') : { k: 'set', of: element };
        }
        case 'iterable':
          // Elements are not checked: walking an iterator here would consume it. A string iterates
          // its characters, so it is an Iterable<number> only by mistake.
          return { k: 'iterable', of: ANY, strings: takesString(arg(0)) };
        case 'stream': {
          // Items are not checked (that would read the stream), but they must be able to cross.
          const item = arg(0);
          return isRefused(item) ? within(item, '[item]') : { k: 'stream', t: lib.name, of: item };
        }
      }
    }
    if (this.kinds.isThenable(type)) return { k: 'refused', reason: 'a promise-like value cannot cross apartments; await it first and pass the value', path: [] };
    if (isFunctionLike(checker, type)) return { k: 'prim', t: 'function' };
    if (type.getConstructSignatures().length > 0 && type.getCallSignatures().length === 0) return { k: 'prim', t: 'function' };
    const methods = this.kinds.byReference(type);
    if (methods) {
      if (methods.length === 0 && !this.kinds.isRemote(type)) return { k: 'refused', reason: 'a value whose only methods are keyed by symbols cannot be called across apartments', path: [] };
      return { k: 'remote', label: this.label(type), methods };
    }
    return this.shape(type);
  }

  private tuple(type: ts.TupleTypeReference): Built {
    const flags = type.target.elementFlags;
    const items: TupleItemIR[] = [];
    const args = this.checker.getTypeArguments(type);
    for (let i = 0; i < flags.length; i++) {
      const f = flags[i]!;
      let element = this.build(args[i]!);
      if (isRefused(element)) return within(element, `[${i}]`);
      if (f & ts.ElementFlags.Variadic) element = element.k === 'array' ? element.of : ANY;
      items.push({ check: element, optional: (f & ts.ElementFlags.Optional) !== 0, rest: (f & (ts.ElementFlags.Rest | ts.ElementFlags.Variadic)) !== 0 });
    }
    return { k: 'tuple', items };
  }

  private shape(type: ts.Type): Built {
    const named = this.namedKey(type);
    if (named) this.building.set(type, named);
    try {
      const props: PropIR[] = [];
      for (const p of this.checker.getPropertiesOfType(type)) {
        const name = p.getName();
        if (name.startsWith('__@') || isHidden(p)) continue;
        const callable = this.kinds.isCallableMember(p);
        // Methods do not cross by value; a function-typed property does (by reference) and is checked.
        if (callable && p.flags & ts.SymbolFlags.Method) continue;
        const optional = (p.flags & ts.SymbolFlags.Optional) !== 0 || isAccessor(p);
        const built = this.build(this.checker.getTypeOfSymbol(p));
        if (isRefused(built)) {
          // An optional member that cannot cross can still be left out: require that.
          if (optional) props.push({ name, check: { k: 'prim', t: 'undefined' }, optional: true });
          else return within(built, propSegment(name));
          continue;
        }
        props.push({ name, check: built, optional });
      }
      const index: ShapeIR['index'][number][] = [];
      for (const info of this.checker.getIndexInfosOfType(type)) {
        const key = info.keyType.flags & ts.TypeFlags.String ? 'string' : info.keyType.flags & ts.TypeFlags.Number ? 'number' : undefined;
        if (!key) continue;
        const built = this.build(info.type);
        if (isRefused(built)) return within(built, `[${key}]`);
        index.push({ key, check: built });
      }
      props.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const proxies = this.kinds.callableMembers(type).length > 0 || (type.getSymbol()?.flags ?? 0) & ts.SymbolFlags.Class ? true : false;
      const callable = type.getCallSignatures().length > 0;
      const id = named ?? `{${props.map((p) => `${p.name}${p.optional ? '?' : ''}:${checkKey(p.check)}`).join(';')}${index.map((i) => `;[${i.key}]:${checkKey(i.check)}`).join('')}${callable ? ';()' : ''}${proxies ? ';proxy' : ''}}`;
      if (!this.shapes.has(id)) this.shapes.set(id, { id, label: named ? this.label(type) : anonymousLabel(props, index, this.shapes), props, index, proxies, callable });
      return { k: 'shape', id };
    } finally {
      this.building.delete(type);
    }
  }

  /** The stable key of a named type (an interface, class or alias, with its type arguments); undefined for literals. */
  private namedKey(type: ts.Type): string | undefined {
    const symbol = type.aliasSymbol ?? type.getSymbol();
    if (!symbol || symbol.getName().startsWith('__')) return undefined;
    return this.typeKey(type);
  }

  /**
   * A machine-independent key for any type: declared names qualified by where they were declared,
   * with their type arguments; literals by their structure. Never a compiler-internal name.
   */
  typeKey(type: ts.Type): string {
    if (this.keyStack.has(type)) return '^';
    this.keyStack.add(type);
    try {
      return this.computeKey(type);
    } finally {
      this.keyStack.delete(type);
    }
  }

  private computeKey(type: ts.Type): string {
    const args = (list: readonly ts.Type[] | undefined): string => (list && list.length > 0 ? `<${list.map((t) => this.typeKey(t)).join(',')}>` : '');
    if (type.aliasSymbol) return `${this.access.declarationId(type.aliasSymbol)}${args(type.aliasTypeArguments)}`;
    const f = type.flags;
    if (f & ts.TypeFlags.StringLiteral) return JSON.stringify((type as ts.StringLiteralType).value);
    if (f & (ts.TypeFlags.NumberLiteral | ts.TypeFlags.BigIntLiteral | ts.TypeFlags.BooleanLiteral)) return this.checker.typeToString(type);
    if (type.isUnion() || type.isIntersection()) return type.types.map((t) => this.typeKey(t)).sort().join(type.isUnion() ? '|' : '&');
    if (f & ts.TypeFlags.TypeParameter) return `${isThisType(type) ? 'this' : type.getSymbol()?.getName() ?? 'T'}`;
    if (!(f & ts.TypeFlags.Object)) return this.checker.typeToString(type);
    const o = type as ts.ObjectType;
    if (this.checker.isArrayType(o)) return `${this.typeKey(this.checker.getTypeArguments(o as ts.TypeReference)[0]!)}[]`;
    if (this.checker.isTupleType(o)) return `[${this.checker.getTypeArguments(o as ts.TypeReference).map((t) => this.typeKey(t)).join(',')}]`;
    const symbol = o.getSymbol();
    if (symbol && !symbol.getName().startsWith('__')) {
      const target = o.objectFlags & ts.ObjectFlags.Reference ? (o as ts.TypeReference).target : undefined;
      const count = (target as ts.InterfaceType | undefined)?.typeParameters?.length ?? 0;
      const list = target ? this.checker.getTypeArguments(o as ts.TypeReference).slice(0, count) : [];
      return `${this.access.declarationId(symbol)}${args(list)}`;
    }
    const members = this.checker.getPropertiesOfType(o).map((p) => `${p.getName().startsWith('__@') ? '[symbol]' : p.getName()}${p.flags & ts.SymbolFlags.Optional ? '?' : ''}:${this.typeKey(this.checker.getTypeOfSymbol(p))}`);
    const calls = o.getCallSignatures().map((s) => `(${s.getParameters().map((p) => this.typeKey(this.checker.getTypeOfSymbol(p))).join(',')})=>${this.typeKey(s.getReturnType())}`);
    return `{${[...members, ...calls].join(';')}}`;
  }

  /** How messages name a type: its declared name with type arguments, or `object`. */
  label(type: ts.Type): string {
    const symbol = type.aliasSymbol ?? type.getSymbol();
    if (!symbol || symbol.getName().startsWith('__')) return 'object';
    const list = type.aliasSymbol ? type.aliasTypeArguments : type.flags & ts.TypeFlags.Object && (type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference
      ? this.checker.getTypeArguments(type as ts.TypeReference).slice(0, ((type as ts.TypeReference).target as ts.InterfaceType).typeParameters?.length ?? 0)
      : undefined;
    const inner = (t: ts.Type): string => (t.aliasSymbol || (t.getSymbol() && !t.getSymbol()!.getName().startsWith('__')) ? this.label(t) : this.checker.typeToString(t));
    return `${symbol.getName()}${list && list.length > 0 ? `<${list.map(inner).join(', ')}>` : ''}`;
  }
}

/** A short name for a type literal in messages: `{ label, precision? }`, `{ [key: string]: number[] }`. */
function anonymousLabel(props: readonly PropIR[], index: ShapeIR['index'], shapes: ReadonlyMap<string, ShapeIR>): string {
  if (props.length === 0 && index.length === 1) return `{ [key: ${index[0]!.key}]: ${labelOf(index[0]!.check, shapes)} }`;
  if (props.length === 0) return 'object';
  const shown = props.slice(0, 4).map((p) => `${p.name}${p.optional ? '?' : ''}`);
  return `{ ${shown.join(', ')}${props.length > 4 ? ', …' : ''} }`;
}

/** A canonical text of a check (shapes by id): equal checks give equal keys. */
export function checkKey(c: Check): string {
  switch (c.k) {
    case 'any':
      return '*';
    case 'prim':
      return c.t;
    case 'lit':
      return JSON.stringify(c.v);
    case 'bigint-lit':
      return `${c.v}n`;
    case 'array':
      return `${checkKey(c.of)}[]`;
    case 'tuple':
      return `[${c.items.map((i) => `${i.rest ? '...' : ''}${checkKey(i.check)}${i.optional ? '?' : ''}`).join(',')}]`;
    case 'union':
      return `(${c.of.map(checkKey).join('|')})`;
    case 'shape':
      return `#${c.id}`;
    case 'builtin':
      return c.t;
    case 'map':
      return `Map<${checkKey(c.key)},${checkKey(c.value)}>`;
    case 'set':
      return `Set<${checkKey(c.of)}>`;
    case 'iterable':
      return `Iterable<${checkKey(c.of)}${c.strings ? '' : ',no-string'}>`;
    case 'stream':
      return `stream ${c.t}<${checkKey(c.of)}>`;
    case 'remote':
      return `remote ${c.label}(${c.methods.join(',')})`;
  }
}

/** Whether a value that passes `c` may be a string (what iterating a string yields). */
function takesString(c: Built): boolean {
  switch (c.k) {
    case 'any':
      return true;
    case 'prim':
      return c.t === 'string';
    case 'lit':
      return typeof c.v === 'string';
    case 'union':
      return c.of.some(takesString);
    default:
      return false;
  }
}
