import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { emitFile } from '../../../lib/cli/emit.js';
import { introspect } from '../../../lib/cli/introspect.js';
import { isIterable } from '../../../marshal/argument-checks.js';
import { repo } from './cli-harness.js';

/** Type-check `files` the way a strict user project would (plus `extra`); returns the diagnostics' messages (with `extra`, only those in `files`). */
function typecheck(files: string[], extra: ts.CompilerOptions = {}): string[] {
  const program = ts.createProgram(files, {
    ...extra, strict: true, noEmit: true, noUnusedLocals: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true,
    types: ['node'], typeRoots: [join(repo, 'node_modules/@types')], lib: ['lib.es2024.d.ts', 'lib.esnext.disposable.d.ts'],
  });
  const mine = (d: ts.Diagnostic): boolean => Object.keys(extra).length === 0 || files.includes(d.file?.fileName ?? '');
  return ts.getPreEmitDiagnostics(program).filter(mine).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

/** Generate `source` (one file, in a fresh directory) against this repository's runtime; returns its directory and the text. */
function generate(name: string, source: string): { dir: string; text: string; runtime: string } {
  const dir = mkdtempSync(join(tmpdir(), 'proxygen-emit-'));
  writeFileSync(join(dir, `${name}.ts`), source);
  const { files, problems } = introspect({ files: [join(dir, `${name}.ts`)], names: [], outDir: dir });
  expect(problems).to.deep.equal([]);
  const runtime = relative(dir, join(repo, 'lib/index.js')).replace(/\\/g, '/');
  const text = emitFile(files[0]!, runtime);
  writeFileSync(join(dir, `${name}.remote.ts`), text);
  return { dir, text, runtime };
}

describe('lib/cli: emission: the proxy keeps the declared types', function () {
  // Each case runs the compiler twice (introspection, then a strict type check of the output).
  this.timeout(10 * 60_000);

  it('types by-ref parameters as "yours or a proxy" and by-ref results as proxies, in every shape, and compiles under tsc', () => {
    const { dir, text, runtime } = generate('hub', [
      '/** @remote */',
      'export interface Peer {\n  ping(): string;\n}',
      '/** @remote */',
      'export interface Hub {',
      '  join(peer: Peer, note: string, later?: (n: number) => void): number;',
      '  joinAll(peers: Peer[], options: { lead: Peer | null; tag?: string }): void;',
      '  find(name: string): Promise<Peer | undefined>;',
      '  all(): Peer[];',
      '  broadcast(text: string, ...to: Peer[]): void;',
      '}',
      '',
    ].join('\n'));
    expect(text).to.contain('join(peer: $1.Peer | $Remote<$1.Peer>, note: string, later?: ((n: number) => void) | undefined): Promise<number>;');
    expect(text).to.contain('joinAll(peers: ($1.Peer | $Remote<$1.Peer>)[], options: { lead: $1.Peer | $Remote<$1.Peer> | null; tag?: string | undefined }): Promise<void>;');
    expect(text).to.contain('find(name: string): Promise<$Remote<$1.Peer> | undefined>;');
    expect(text).to.contain('all(): Promise<$Remote<$1.Peer>[]>;');
    expect(text).to.contain('broadcast(text: string, ...to: ($1.Peer | $Remote<$1.Peer>)[]): Promise<void>;');
    writeFileSync(join(dir, 'use.ts'), [
      `import type { Remote } from '${runtime}';`,
      "import type { Peer } from './hub.js';",
      "import type { HubProxy } from './hub.remote.js';",
      'export async function use(hub: HubProxy, mine: Peer): Promise<string> {',
      "  const found: Remote<Peer> | undefined = await hub.find('x');",
      '  const pinged: Promise<string> | undefined = found?.ping();',
      '  const [first] = await hub.all();',
      "  await hub.join(mine, 'a');",
      "  await hub.join(first!, 'b', (n) => void n);",
      '  await hub.joinAll([mine, first!], { lead: found ?? null });',
      "  await hub.broadcast('hi', mine, first!);",
      "  return (await pinged) ?? '';",
      '}',
      '',
    ].join('\n'));
    expect(typecheck([join(dir, 'hub.remote.ts'), join(dir, 'use.ts')])).to.deep.equal([]);
  });

  it('keeps overloads, generic interfaces and generic methods, properties, events and `this`, checked by tsc both ways', () => {
    const { dir, text } = generate('emitter', [
      'export interface Disposable { dispose(): void }',
      'export type EventMap = { [name: string]: (...args: any[]) => void };',
      '/** @remote */',
      'export interface Emitter<Events extends EventMap> {',
      '  readonly count: number;',
      '  label: string;',
      '  onDidFire(listener: (name: keyof Events) => void): Disposable;',
      '  on<E extends keyof Events>(event: E, listener: Events[E]): this;',
      '  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): boolean;',
      '  parse(text: string): number;',
      '  parse(bytes: Uint8Array, offset?: number): bigint;',
      '}',
      '',
    ].join('\n'));
    expect(text).to.contain('export class EmitterProxy<Events extends $1.EventMap> {');
    expect(text).to.contain('on<E extends keyof Events>(event: E, listener: Events[E]): Promise<this>;');
    expect(text).to.contain('parse(text: string): Promise<number>;\n  parse(bytes: Uint8Array<ArrayBufferLike>, offset?: number | undefined): Promise<bigint>;');
    writeFileSync(join(dir, 'use.ts'), [
      "import type { EmitterProxy } from './emitter.remote.js';",
      'type Events = { ready: (at: number) => void; quit: () => void };',
      'export async function use(e: EmitterProxy<Events>): Promise<number> {',
      '  const n: number = await e.parse("1");',
      '  const b: bigint = await e.parse(new Uint8Array(1), 0);',
      "  const self: EmitterProxy<Events> = await e.on('ready', (at) => void at);",
      "  const fired: boolean = await self.emit('ready', 1);",
      '  const count: number = await e.get_count();',
      "  await e.put_label('x');",
      '  await using subscription = await e.onDidFire((name) => void name);',
      '  void subscription;',
      '  // @ts-expect-error: the overloads are kept, so a number is neither overload',
      '  await e.parse(42);',
      "  // @ts-expect-error: generic methods keep their constraint (keyof Events)",
      "  await e.on('missing', () => undefined);",
      "  // @ts-expect-error: and their parameters follow the type argument",
      "  await e.emit('ready', 'not a number');",
      '  // @ts-expect-error: a read-only property has no put_',
      '  await e.put_count(1);',
      '  return n + Number(b) + count + (fired ? 1 : 0);',
      '}',
      '',
    ].join('\n'));
    expect(typecheck([join(dir, 'emitter.remote.ts'), join(dir, 'use.ts')])).to.deep.equal([]);
  });

  it('emits the golden text, deterministically, and it compiles under tsc', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxygen-inline-'));
    const src = join(dir, 'greeter.ts');
    writeFileSync(src, '/** @remote */\nexport interface Greeter {\n  greet(name: string, times?: number): string;\n  ids(list: Array<1 | 2>): number[];\n}\n');
    const runtimeImport = relative(dir, join(repo, 'lib/index.js')).replace(/\\/g, '/');
    const gen = (importFrom: string): string => {
      const { files, problems } = introspect({ files: [src], names: [], outDir: dir });
      expect(problems).to.deep.equal([]);
      return emitFile(files[0]!, importFrom);
    };
    const golden = readFileSync(join(repo, 'spec/lib/cli/golden/greeter.remote.golden'), 'utf8');
    expect(gen('apartment-runtime')).to.equal(golden);
    expect(gen('apartment-runtime')).to.equal(golden);
    const out = join(dir, 'greeter.remote.ts');
    writeFileSync(out, gen(runtimeImport));
    expect(typecheck([out])).to.deep.equal([]);
  });

  it('writes one check function per type, so output grows linearly with the types (a recursive type with 5 optional self-references)', () => {
    const fields = (n: number): string => Array.from({ length: n }, (_, i) => `  next${i}?: Node;`).join('\n');
    const size = (n: number): number => generate('tree', `export interface Node {\n  value: number;\n${fields(n)}\n}\n/** @remote */\nexport interface Trees {\n  add(root: Node): number;\n}\n`).text.length;
    const three = size(3);
    const five = size(5);
    expect(five - three, 'two more optional self-references add two lines, not a copy of the type').to.be.below(600);
    expect(five).to.be.below(6_000);
  });
});

describe('lib/cli: emission of types that recur other than through a named shape', function () {
  this.timeout(120_000);

  it('checks a recursive union (a JSON value) down to where it recurs, and a generic that grows as it nests down three levels; the output compiles', () => {
    const source = [
      'export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };',
      'export interface Nested<T> { value: T; child?: Nested<T[]> }',
      '/** @remote */',
      'export interface Docs {',
      '  put(doc: Json): Promise<void>;',
      '  nest(n: Nested<number>): Promise<void>;',
      '}',
    ].join('\n');
    // Before: RangeError: Maximum call stack size exceeded (each level of either is built again for ever).
    const { dir, text } = generate('recurring', source);
    expect(text).to.contain('return $rt.fail(r, "Json", v);');
    expect(text.match(/^function \$isNested_/gm) ?? [], 'one check per nesting level, three levels').to.have.length(3);
    expect(typecheck([join(dir, 'recurring.remote.ts')])).to.deep.equal([]);
  });

  it('gives each overloaded member a combinator of its own when their first overloads check alike; the output compiles', () => {
    const source = [
      '/** @remote */',
      'export interface Files {',
      '  read(fd: number): Promise<string>;',
      '  read(fd: number, length: number): Promise<string>;',
      '  write(fd: number): Promise<void>;',
      '  write(fd: number, data: string): Promise<void>;',
      '  stat(fd: number): Promise<number>;',
      '  stat(fd: number, length: number): Promise<number>;',
      '}',
    ].join('\n');
    // Before: both combinators were named after the shared first check, declared twice (TS2451).
    const { dir, text } = generate('overloads', source);
    const combinators = text.match(/^function \$anyOf_\w+/gm) ?? [];
    expect(combinators, 'read and stat check alike and share one; write has its own').to.have.length(2);
    expect(typecheck([join(dir, 'overloads.remote.ts')])).to.deep.equal([]);
  });
});

describe('lib/cli: emission of interfaces that extend classes and Node types', function () {
  this.timeout(120_000);

  it("leaves out a base class's private and protected members and an optional member keyed by a unique symbol; the output compiles", () => {
    const source = [
      "import { EventEmitter } from 'node:events';",
      "export class BaseClient { private secret = 1; protected retries = 2; name = 'c'; total(): number { return this.secret + this.retries; } }",
      '/** @remote */',
      'export interface Client extends BaseClient { ping(): Promise<string>; }',
      '/** @remote */',
      'export interface Emitting extends EventEmitter { status(): Promise<number>; }',
    ].join('\n');
    // Before: get_secret/put_secret in the proxy (TS2341, TS2445), and Emitting refused for
    // EventEmitter's optional [captureRejectionSymbol] ("give it a string name").
    const { dir, text } = generate('extending', source);
    expect(text).to.not.match(/secret|retries|captureRejection/);
    expect(text).to.contain('export class EmittingProxy');
    expect(text).to.contain('get_name');
    expect(typecheck([join(dir, 'extending.remote.ts')])).to.deep.equal([]);
  });
});

describe('lib/cli: emission keeps the grouping of the declared types', function () {
  this.timeout(120_000);

  it('parenthesizes an array of a union of generic types, and names an enum member that is no identifier; the proxy takes what the interface takes', () => {
    const source = [
      "export enum Status { 'in-progress' = 'in-progress', done = 'done' }",
      '/** @remote */',
      'export interface Printing {',
      '  mixed(items: (Map<string, number> | Set<string>)[]): Promise<void>;',
      '  state(s: Exclude<Status, Status.done>): Promise<void>;',
      '}',
    ].join('\n');
    // Before: `Map<string, number> | Set<string>[]` (a Map alone was refused by tsc) and `$1.Status."in-progress"` (TS1003).
    const { dir, text } = generate('grouping', source);
    expect(text).to.contain('mixed(items: (Map<string, number> | Set<string>)[]): Promise<void>;');
    expect(text).to.contain('state(s: (typeof $1.Status)["in-progress"]): Promise<void>;');
    const use = join(dir, 'use.ts');
    writeFileSync(use, [
      "import { Status } from './grouping.js';",
      "import type { PrintingProxy } from './grouping.remote.js';",
      'export async function use(p: PrintingProxy): Promise<void> {',
      '  await p.mixed([new Map([["a", 1]]), new Set(["b"])]);',
      "  await p.state(Status['in-progress']);",
      '}',
    ].join('\n'));
    expect(typecheck([join(dir, 'grouping.remote.ts'), use])).to.deep.equal([]);
  });
});

describe('lib/cli: emission of numeric enums and callable interfaces with properties', function () {
  this.timeout(120_000);

  it('checks a numeric enum as a number (flags combine), and a callable interface with properties compiles as a parameter', () => {
    const source = [
      'export enum Flag { A = 1 << 0, B = 1 << 1 }',
      'export interface Handler { (req: string): void; displayName: string }',
      '/** @remote */',
      'export interface Flags {',
      '  flags(f: Flag): Promise<void>;',
      '  handle(h: Handler): Promise<void>;',
      '}',
    ].join('\n');
    const { dir, text } = generate('flags', source);
    // Before: a check for 1 or 2, so Flag.A | Flag.B (3), which tsc accepts, was refused at run time.
    expect(text).to.match(/\/\*\* Flags\.flags \*\/\nfunction \$args\d+\(a: unknown\[\], r\?: \$Report\): boolean \{\n {2}if \(a\.length !== 1\) return \$rt\.arity\(r, 1, 1, a\.length\);\n {2}if \(!\(typeof a\[0\] === "number"/);
    // Before: TS2352 converting the narrowed function to an index signature.
    expect(typecheck([join(dir, 'flags.remote.ts')])).to.deep.equal([]);
    // Before: TS4111 for every o.displayName-style read of a shape (a setting of @tsconfig/strictest).
    expect(typecheck([join(dir, 'flags.remote.ts')], { noPropertyAccessFromIndexSignature: true })).to.deep.equal([]);
  });
});

describe('lib/cli: emission of iterables', function () {
  this.timeout(120_000);

  it('takes a string as an Iterable only where its elements may be strings', () => {
    const source = [
      '/** @remote */',
      'export interface Sums {',
      '  sum(xs: Iterable<number>): Promise<number>;',
      '  join(parts: Iterable<string>): Promise<string>;',
      '  either(xs: Iterable<string | number>): Promise<number>;',
      '}',
    ].join('\n');
    const { dir, text } = generate('sums', source);
    const check = (member: string): string => new RegExp(`/\\*\\* Sums\\.${member} \\*/\\n[^]*?\\$rt\\.isIterable\\(a\\[0\\](, false)?\\)`).exec(text)?.[0] ?? '';
    // Before: every Iterable took a string, so sum('12') passed the check and summed characters.
    expect(check('sum')).to.match(/isIterable\(a\[0\], false\)$/);
    expect(check('join')).to.match(/isIterable\(a\[0\]\)$/);
    // A union that takes strings: on its own, as its check would otherwise be shared with join's.
    const either = generate('either', '/** @remote */\nexport interface Either {\n  either(xs: Iterable<string | number>): Promise<number>;\n}').text;
    expect(either).to.contain('$rt.isIterable(a[0])').and.not.contain('$rt.isIterable(a[0], false)');
    expect(isIterable('12', false)).to.equal(false);
    expect(isIterable('12')).to.equal(true);
    expect(isIterable([1, 2], false)).to.equal(true);
    expect(typecheck([join(dir, 'sums.remote.ts')])).to.deep.equal([]);
  });
});

describe('lib/cli: emission of type parameters constrained by other type parameters', function () {
  this.timeout(120_000);

  it('keeps each constraint as declared, so the output compiles and the proxy refuses what the interface refuses', () => {
    const source = [
      'export interface Events { ready: number; done: string }',
      '/** @remote */',
      'export interface Table<T, K extends keyof T> {',
      '  pluck<P extends K>(row: T, key: P): Promise<T[P]>;',
      '  on<E extends Extract<keyof Events, string>>(name: E, value: Events[E]): Promise<void>;',
      '}',
    ].join('\n');
    const { dir, text } = generate('constrained', source);
    // Before: `P extends string | number | symbol` (TS2536 on T[P]) and `E extends string`.
    expect(text).to.contain('pluck<P extends K>(row: T, key: P)');
    const use = join(dir, 'use.ts');
    writeFileSync(use, [
      "import type { TableProxy } from './constrained.remote.js';",
      'export async function use(p: TableProxy<{ a: number; b: string }, "a">): Promise<void> {',
      "  const a: number = await p.pluck({ a: 1, b: 'x' }, 'a');",
      "  await p.on('ready', a);",
      "  await p.on('redy', a);",
      '}',
    ].join('\n'));
    const problems = typecheck([join(dir, 'constrained.remote.ts'), use]);
    expect(problems, problems.join('\n')).to.have.length(1);
    expect(problems[0]).to.contain('use.ts').and.contain('"redy"');
  });
});
