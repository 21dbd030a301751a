// Emission of run-time checks: one function per shape and per compound check, shared by every
// interface of the generated file, so the output grows with the number of types, not with how
// often or how deeply they are used. Every function has the signature (v, r?) => boolean: without a
// report it only answers; with one, the failing leaf records what it expected and what it got, and
// each level on the way out adds its step to the path.
import { checkKey } from './check-builder.js';
import type { Check, ParamIR, ShapeIR, StreamName, TupleItemIR } from './ir.js';
import { labelOf } from './labels.js';

const PRIMITIVE_TESTS: Readonly<Record<string, (x: string) => string>> = {
  string: (x) => `typeof ${x} === "string"`,
  number: (x) => `typeof ${x} === "number"`,
  boolean: (x) => `typeof ${x} === "boolean"`,
  bigint: (x) => `typeof ${x} === "bigint"`,
  undefined: (x) => `${x} === undefined`,
  function: (x) => `typeof ${x} === "function"`,
  null: (x) => `${x} === null`,
  object: (x) => `(typeof ${x} === "object" ? ${x} !== null : typeof ${x} === "function")`,
};

/** The run-time test of each stream kind (marshal/argument-checks.ts). */
const STREAM_TESTS: Readonly<Record<StreamName, string>> = { 'async-iterable': 'isAsyncIterable', readable: 'isReadableStream', writable: 'isWritableStream' };

const BUILTIN_TESTS: Readonly<Record<string, (x: string) => string>> = {
  Date: (x) => `$rt.isDate(${x})`,
  RegExp: (x) => `$rt.isRegExp(${x})`,
  Error: (x) => `$rt.isError(${x})`,
  ArrayBuffer: (x) => `$rt.isArrayBuffer(${x})`,
  SharedArrayBuffer: (x) => `$rt.isSharedArrayBuffer(${x})`,
  DataView: (x) => `$rt.isDataView(${x})`,
  Buffer: (x) => `$rt.isBytes(${x})`,
};

/** Whether a value that passed `c` may be a Buffer that arrived as a Uint8Array (to rebuild as a Buffer). */
function holdsBuffer(c: Check): boolean {
  return (c.k === 'builtin' && c.t === 'Buffer') || (c.k === 'union' && c.of.some(holdsBuffer));
}

/** Accessing property `name` of `o` (typed as an index signature): always bracketed, which noPropertyAccessFromIndexSignature requires. */
function prop(o: string, name: string): string {
  return `${o}[${JSON.stringify(name)}]`;
}

/** What a compound check's value must be before its parts are looked at. */
function guardOf(c: Check, shapes: ReadonlyMap<string, ShapeIR>): 'array' | 'map' | 'set' | 'function' | 'object' | undefined {
  switch (c.k) {
    case 'array':
    case 'tuple':
      return 'array';
    case 'map':
      return 'map';
    case 'set':
      return 'set';
    case 'shape':
      return shapes.get(c.id)?.callable ? 'function' : 'object';
    default:
      return undefined;
  }
}

const GUARDS = {
  array: (x: string) => `Array.isArray(${x})`,
  map: (x: string) => `$rt.isMap(${x})`,
  set: (x: string) => `$rt.isSet(${x})`,
  function: (x: string) => `typeof ${x} === "function"`,
  object: (x: string) => `typeof ${x} === "object" && ${x} !== null`,
} as const;

/** Writes the check functions of one generated file. */
export class CheckEmitter {
  private readonly names = new Map<string, string>();
  private readonly used = new Set<string>();
  private readonly functions: string[] = [];
  private readonly constants = new Map<string, string>();
  private readonly argsByBody = new Map<string, string>();
  /** The overload combinators written so far (anyOverload). */
  private readonly combinators = new Set<string>();

  constructor(private readonly shapes: ReadonlyMap<string, ShapeIR>) {}

  label(c: Check): string {
    return labelOf(c, this.shapes);
  }

  /** A boolean expression testing `x`; with `report`, a failure is recorded in `r`. */
  test(c: Check, x: string, report: boolean): string {
    const r = report ? 'r' : 'undefined';
    const leaf = (e: string): string => (report ? `(${e} || $rt.fail(r, ${JSON.stringify(this.label(c))}, ${x}))` : e);
    switch (c.k) {
      case 'any':
        return 'true';
      case 'prim':
        return leaf(PRIMITIVE_TESTS[c.t]!(x));
      case 'lit':
        return leaf(`${x} === ${JSON.stringify(c.v)}`);
      case 'bigint-lit':
        return leaf(`${x} === ${c.v}n`);
      case 'builtin':
        return leaf(BUILTIN_TESTS[c.t]?.(x) ?? `$rt.isTypedArray(${x}, ${JSON.stringify(c.t)})`);
      case 'iterable':
        return leaf(c.strings ? `$rt.isIterable(${x})` : `$rt.isIterable(${x}, false)`);
      case 'stream':
        return leaf(`$rt.${STREAM_TESTS[c.t]}(${x})`);
      case 'remote': {
        const methods = this.constant(JSON.stringify(c.methods));
        return report ? `($rt.isRemote(${x}, ${methods}) || $rt.failRemote(r, ${JSON.stringify(c.label)}, ${methods}, ${x}))` : `$rt.isRemote(${x}, ${methods})`;
      }
      case 'union': {
        const simple = c.of.filter((u) => this.isSimple(u));
        if (simple.length === c.of.length) {
          const any = c.of.map((u) => this.test(u, x, false)).join(' || ') || 'false';
          return report ? `(${any} || $rt.fail(r, ${JSON.stringify(this.label(c))}, ${x}))` : `(${any})`;
        }
        // `T | undefined`, `T | null`…: one compound branch, reported on from inside.
        if (simple.length === c.of.length - 1) {
          const compound = c.of.find((u) => !this.isSimple(u))!;
          return `(${[...simple.map((u) => this.test(u, x, false)), this.test(compound, x, report)].join(' || ')})`;
        }
        return `${this.fn(c)}(${x}, ${r})`;
      }
      default:
        return `${this.fn(c)}(${x}, ${r})`;
    }
  }

  private isSimple(c: Check): boolean {
    return c.k !== 'shape' && c.k !== 'array' && c.k !== 'tuple' && c.k !== 'map' && c.k !== 'set' && (c.k !== 'union' || c.of.every((u) => this.isSimple(u)));
  }

  /** A module-level constant (a method list), shared by equal values. */
  private constant(json: string): string {
    let name = this.constants.get(json);
    if (!name) this.constants.set(json, (name = `$methods${this.constants.size}`));
    return name;
  }

  /** The name of the function checking compound `c`, writing it on first use. */
  private fn(c: Check): string {
    const key = c.k === 'shape' ? `#${c.id}` : checkKey(c);
    let name = this.names.get(key);
    if (name) return name;
    name = this.freshName(c);
    this.names.set(key, name);
    const slot = this.functions.length;
    this.functions.push('');
    const body = this.body(c);
    this.functions[slot] = `/** ${this.label(c).replace(/\*\//g, '*\\/')} */\nfunction ${name}(v: unknown, r?: $Report): boolean {\n${body.map((l) => `  ${l}`).join('\n')}\n}`;
    return name;
  }

  private freshName(c: Check): string {
    const label = c.k === 'shape' ? (this.shapes.get(c.id)?.label ?? 'object') : '';
    const base = c.k !== 'shape' ? '$check' : /^[A-Za-z_$][\w$]*/.test(label) && label !== 'object' ? `$is${label.replace(/[^\w$]+/g, '_').replace(/_$/, '')}` : '$isObject';
    let name = base;
    for (let i = 1; this.used.has(name) || name === '$check'; i++) name = `${base}${i}`;
    this.used.add(name);
    return name;
  }

  private body(c: Check): string[] {
    const fail = `return $rt.fail(r, ${JSON.stringify(this.label(c))}, v);`;
    switch (c.k) {
      case 'shape':
        return this.shapeBody(this.shapes.get(c.id), fail);
      case 'array':
        return [
          `if (!Array.isArray(v)) ${fail}`,
          `for (let i = 0; i < v.length; i++) {`,
          `  if (!${this.test(c.of, 'v[i]', true)}) return $rt.at(r, i);`,
          ...(holdsBuffer(c.of) ? [`  if ($rt.isBytes(v[i])) v[i] = $rt.toBuffer(v[i] as Uint8Array);`] : []),
          `}`,
          `return true;`,
        ];
      case 'tuple':
        return this.tupleBody(c.items, fail);
      case 'map':
        return [
          `if (!$rt.isMap(v)) ${fail}`,
          `let i = 0;`,
          `for (const [k, x] of v as Map<unknown, unknown>) {`,
          `  if (!${this.test(c.key, 'k', true)}) return $rt.atEntry(r, "key", k, i);`,
          `  if (!${this.test(c.value, 'x', true)}) return $rt.atEntry(r, "value", k, i);`,
          `  i++;`,
          `}`,
          `return true;`,
        ];
      case 'set':
        return [
          `if (!$rt.isSet(v)) ${fail}`,
          `let i = 0;`,
          `for (const x of v as Set<unknown>) {`,
          `  if (!${this.test(c.of, 'x', true)}) return $rt.atEntry(r, "element", x, i);`,
          `  i++;`,
          `}`,
          `return true;`,
        ];
      case 'union':
        return this.unionBody(c.of, fail);
      default:
        return [`return ${this.test(c, 'v', true)};`];
    }
  }

  private shapeBody(s: ShapeIR | undefined, fail: string): string[] {
    if (!s) return [fail];
    const lines: string[] = [];
    if (s.proxies) lines.push('if ($rt.isProxy(v)) return true;');
    const arrays = s.index.some((i) => i.key === 'number');
    lines.push(s.callable ? `if (typeof v !== "function") ${fail}` : `if (typeof v !== "object" || v === null${arrays ? '' : ' || Array.isArray(v)'}) ${fail}`);
    const checks: string[] = [];
    for (const p of s.props) {
      const x = prop('o', p.name);
      const test = this.test(p.check, x, true);
      if (test === 'true') continue;
      checks.push(`if (${p.optional ? `${x} !== undefined && ` : ''}!${test}) return $rt.at(r, ${JSON.stringify(p.name)});`);
      if (holdsBuffer(p.check)) checks.push(`if ($rt.isBytes(${x})) ${x} = $rt.toBuffer(${x} as Uint8Array);`);
    }
    for (const i of s.index) {
      const test = this.test(i.check, 'o[k]', true);
      if (test === 'true') continue;
      checks.push('for (const k of Object.keys(o)) {');
      if (i.key === 'number') checks.push('  if (String(Number(k)) !== k) continue;');
      checks.push(`  if (!${test}) return $rt.at(r, k);`, '}');
    }
    // Through unknown: `v` may have been narrowed to a function (a callable interface with properties).
    if (checks.length > 0) lines.push('const o = v as unknown as { [key: string]: unknown };', ...checks);
    lines.push('return true;');
    return lines;
  }

  private tupleBody(items: readonly TupleItemIR[], fail: string): string[] {
    const restAt = items.findIndex((i) => i.rest);
    const fixed = restAt < 0 ? items : items.slice(0, restAt);
    const trailing = restAt < 0 ? [] : items.slice(restAt + 1);
    const min = items.filter((i) => !i.optional && !i.rest).length;
    const lines = [`if (!Array.isArray(v)) ${fail}`];
    lines.push(restAt < 0 ? `if (v.length < ${min} || v.length > ${items.length}) ${fail}` : `if (v.length < ${min}) ${fail}`);
    fixed.forEach((item, i) => {
      const test = this.test(item.check, `v[${i}]`, true);
      if (test !== 'true') lines.push(`if (${item.optional ? `v[${i}] !== undefined && ` : ''}!${test}) return $rt.at(r, ${i});`);
    });
    if (restAt >= 0) {
      const test = this.test(items[restAt]!.check, 'v[i]', true);
      if (test !== 'true') lines.push(`for (let i = ${restAt}; i < v.length - ${trailing.length}; i++) if (!${test}) return $rt.at(r, i);`);
      trailing.forEach((item, j) => {
        const at = `v.length - ${trailing.length - j}`;
        lines.push(`if (!${this.test(item.check, `v[${at}]`, true)}) return $rt.at(r, ${at});`);
      });
    }
    lines.push('return true;');
    return lines;
  }

  private unionBody(of: readonly Check[], fail: string): string[] {
    const simple = of.filter((u) => this.isSimple(u));
    const compound = of.filter((u) => !this.isSimple(u));
    const lines: string[] = [];
    if (simple.length > 0) lines.push(`if (${simple.map((u) => this.test(u, 'v', false)).join(' || ')}) return true;`);
    // Dispatch on what the value is (array, Map, object…), then dig into the one branch that fits.
    const groups = new Map<string, Check[]>();
    for (const u of compound) {
      const g = guardOf(u, this.shapes) ?? 'object';
      groups.set(g, [...(groups.get(g) ?? []), u]);
    }
    for (const g of ['array', 'map', 'set', 'function', 'object'] as const) {
      const members = groups.get(g);
      if (!members) continue;
      lines.push(`if (${GUARDS[g]('v')}) {`);
      if (members.length === 1) lines.push(`  return ${this.test(members[0]!, 'v', true)};`);
      else {
        const d = g === 'object' ? this.discriminant(members) : undefined;
        if (d) {
          lines.push(`  switch (${prop('(v as { [key: string]: unknown })', d.name)}) {`);
          for (const [values, member] of d.cases) lines.push(`    ${values.map((x) => `case ${JSON.stringify(x)}:`).join(' ')} return ${this.test(member, 'v', true)};`);
          lines.push('  }');
        } else {
          lines.push(`  if (${members.map((u) => this.test(u, 'v', false)).join(' || ')}) return true;`);
        }
      }
      lines.push('}');
    }
    lines.push(fail);
    return lines;
  }

  /** A property whose literal values tell the object branches of a union apart (`kind: 'a' | 'b'`). */
  private discriminant(members: readonly Check[]): { name: string; cases: [(string | number | boolean)[], Check][] } | undefined {
    const shapes = members.map((m) => (m.k === 'shape' ? this.shapes.get(m.id) : undefined));
    if (shapes.some((s) => !s)) return undefined;
    const literals = (c: Check): (string | number | boolean)[] | undefined => (c.k === 'lit' ? [c.v] : c.k === 'union' && c.of.every((u) => u.k === 'lit') ? c.of.map((u) => (u as { v: string | number | boolean }).v) : undefined);
    for (const p of shapes[0]!.props) {
      const cases: [(string | number | boolean)[], Check][] = [];
      const seen = new Set<string | number | boolean>();
      let ok = true;
      shapes.forEach((s, i) => {
        const q = s!.props.find((x) => x.name === p.name && !x.optional);
        const values = q && literals(q.check);
        if (!values || values.some((v) => seen.has(v))) ok = false;
        else {
          values.forEach((v) => seen.add(v));
          cases.push([values, members[i]!]);
        }
      });
      if (ok) return { name: p.name, cases };
    }
    return undefined;
  }

  /** The arguments check of one signature: arity, then each parameter in order. */
  args(params: readonly ParamIR[], comment: string): string {
    const restAt = params.findIndex((p) => p.rest);
    const fixed = restAt < 0 ? params : params.slice(0, restAt);
    let min = 0;
    fixed.forEach((p, i) => {
      if (!p.optional) min = i + 1;
    });
    const tooFew = min > 0 ? [`a.length < ${min}`] : [];
    const tooMany = restAt < 0 ? [min === fixed.length ? `a.length !== ${min}` : `a.length > ${fixed.length}`] : [];
    const arity = min === fixed.length && restAt < 0 ? tooMany : [...tooFew, ...tooMany];
    const lines = arity.length > 0 ? [`if (${arity.join(' || ')}) return $rt.arity(r, ${min}, ${restAt < 0 ? fixed.length : 'Infinity'}, a.length);`] : [];
    fixed.forEach((p, i) => {
      const test = this.test(p.check, `a[${i}]`, true);
      if (test !== 'true') lines.push(`if (${p.optional ? `a[${i}] !== undefined && ` : ''}!${test}) return $rt.arg(r, ${i});`);
      if (holdsBuffer(p.check)) lines.push(`if ($rt.isBytes(a[${i}])) a[${i}] = $rt.toBuffer(a[${i}] as Uint8Array);`);
    });
    if (restAt >= 0) {
      const rest = params[restAt]!;
      const test = this.test(rest.check, 'a[i]', true);
      if (test !== 'true') lines.push(`for (let i = ${restAt}; i < a.length; i++) if (!${test}) return $rt.arg(r, i);`);
    }
    lines.push('return true;');
    // Signatures that check the same (every getter: no arguments) share one function.
    const body = lines.map((l) => `  ${l}`).join('\n');
    const same = this.argsByBody.get(body);
    if (same) return same;
    const name = `$args${this.argsByBody.size}`;
    this.argsByBody.set(body, name);
    this.functions.push(`/** ${comment.replace(/\*\//g, '*\\/')} */\nfunction ${name}(a: unknown[], r?: $Report): boolean {\n${body}\n}`);
    return name;
  }

  /**
   * The check of an overloaded member: any of its overloads' argument checks. Named after all of
   * them, since members share argument checks: two members whose first overloads check alike need
   * a combinator each, and members whose overloads all check alike share one.
   */
  anyOverload(argChecks: readonly string[]): string {
    const name = `$anyOf_${argChecks.map((c) => c.replace(/^\$/, '')).join('_')}`;
    if (this.combinators.has(name)) return name;
    this.combinators.add(name);
    this.functions.push(`const ${name}_checks = [${argChecks.join(', ')}];\nfunction ${name}(a: unknown[], r?: $Report): boolean {\n  return $rt.anyOverload(a, r, ${name}_checks);\n}`);
    return name;
  }

  /** Everything written so far: constants, then functions in order of first use. */
  text(): string {
    const consts = [...this.constants].map(([json, name]) => `const ${name}: readonly string[] = ${json};`);
    return [...consts, ...this.functions].join('\n\n');
  }
}
