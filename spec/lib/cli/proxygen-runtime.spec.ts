import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { InvalidArgumentError, NoInterfaceError, ProtocolError, bindInterface, byRef, isProxy, release, type Remote, type Runtime } from '../../../lib/index.js';
import { emitFile } from '../../../lib/cli/emit.js';
import { introspect } from '../../../lib/cli/introspect.js';
import type { Listener } from '../../fixtures/proxygen/calc-api.js';
import { CalcImpl } from '../../fixtures/proxygen/calc-impl.js';
import { CalcApiManifest, bindCalcApi } from '../../fixtures/proxygen/generated/calc-api.remote.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';
import { repo } from './cli-harness.js';

let rt: Runtime | undefined;

async function startCalc(): Promise<{ proxy: unknown; r: Runtime }> {
  ({ rt } = await startRuntime());
  rt.registerClass('CalcImpl', { module: fixture('proxygen/calc-impl.js'), export: 'CalcImpl' });
  const apt = await rt.createApartment({ name: 'calc' });
  return { proxy: await apt.createObject('CalcImpl'), r: rt };
}

describe('lib/cli: generated proxies and stubs in a real apartment', () => {
  it('calls every method through the typed proxy, by index', async () => {
    const { proxy } = await startCalc();
    const calc = await bindCalcApi(proxy);
    expect(await calc.add(2, 3)).to.equal(5);
    expect(await calc.scale([1, 2])).to.deep.equal([2, 4]);
    expect(await calc.scale([1, 2], 3)).to.deep.equal([3, 6]);
    expect(await calc.describe({ label: 'x', precision: 2 })).to.equal('x:2');
    expect(await calc.pick('max', [3, 9, 4])).to.equal(9);
    const heard: string[] = [];
    expect(await calc.tell(byRef({ notify: (m: string) => void heard.push(m) }), 'hello')).to.equal(true);
    expect(heard).to.deep.equal(['hello']);
    expect(await calc.flag(true, null)).to.equal(false);
  });

  it('rejects every bad argument with InvalidArgumentError naming the parameter, before the object is touched', async () => {
    const { proxy } = await startCalc();
    const calc = await bindCalcApi(proxy);
    const loose = proxy as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const cases: [() => Promise<unknown>, string][] = [
      [() => loose.add!('2', 3), 'a'],
      [() => loose.add!(2), 'b'],
      [() => loose.add!(1, 2, 3), 'b'],
      [() => loose.scale!('no'), 'values'],
      [() => loose.scale!([1, 'x']), 'values'],
      [() => loose.scale!([1], '2'), 'factor'],
      [() => loose.describe!({ precision: 1 }), 'options'],
      [() => loose.describe!({ label: 'x', precision: '1' }), 'options'],
      [() => loose.describe!([]), 'options'],
      [() => loose.pick!('avg', [1]), 'mode'],
      [() => loose.tell!(42, 'm'), 'listener'],
      [() => loose.flag!(1, null), 'on'],
      [() => loose.flag!(true, 3), 'note'],
    ];
    for (const [call, parameter] of cases) {
      const err = await call().catch((e: unknown) => e);
      expect(err, parameter).to.be.instanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).parameter, String((err as Error).message)).to.equal(parameter);
    }
    expect(await calc.touches()).to.equal(0);
  });

  it('gives a by-ref result as a proxy typed Remote<Listener>, and checks rest parameters element by element', async () => {
    const { proxy } = await startCalc();
    const calc = await bindCalcApi(proxy);
    const listener: Remote<Listener> = await calc.listenerFor('p:');
    expect(isProxy(listener)).to.equal(true);
    const notified: Promise<void> = listener.notify('one');
    await notified;
    expect(await calc.tell(listener, 'two')).to.equal(true);
    release(listener);
    expect(await calc.total('t')).to.equal('t=0');
    expect(await calc.total('t', 1, 2, 3)).to.equal('t=6');
    const loose = proxy as Record<string, (...a: unknown[]) => Promise<unknown>>;
    for (const [call, parameter] of [[() => loose.total!('t', 1, 'x'), 'values'], [() => loose.total!(), 'label']] as const) {
      const err = await call().catch((e: unknown) => e);
      expect(err).to.be.instanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).parameter).to.equal(parameter);
    }
  });

  it('refuses a plain object passed by value where a remote interface is expected, naming the parameter', async () => {
    const { proxy } = await startCalc();
    const calc = await bindCalcApi(proxy);
    const loose = proxy as Record<string, (...a: unknown[]) => Promise<unknown>>;
    for (const byValue of [{}, { label: 'x' }, { notify: 'not a method' }, [], null]) {
      const err = await loose.tell!(byValue, 'm').catch((e: unknown) => e);
      expect(err, JSON.stringify(byValue)).to.be.instanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).parameter).to.equal('listener');
      expect((err as Error).message).to.contain('remote Listener').and.contain('byRef()').and.contain('notify');
    }
    expect(await calc.touches()).to.equal(0);
  });

  it('checks a by-ref argument of a local call by its methods: an object with them passes, one without fails', async () => {
    const local = await bindCalcApi(new CalcImpl());
    const heard: string[] = [];
    expect(await local.tell({ notify: (m: string) => void heard.push(m) }, 'here')).to.equal(true);
    expect(heard).to.deep.equal(['here']);
    const withGetter = Object.defineProperty({}, 'notify', { get: () => () => heard.push('getter ran') });
    for (const bad of [{}, withGetter]) {
      const err = await local.tell(bad as Listener, 'm').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).parameter).to.equal('listener');
    }
    expect(heard, 'a getter on the argument is never run').to.deep.equal(['here']);
  });

  it('never reaches a member outside the interface', async () => {
    const { proxy } = await startCalc();
    const loose = proxy as Record<string, () => Promise<unknown>>;
    for (const name of ['secret', 'constructor', '__proto__', 'toString', 'touched']) {
      expect(await loose[name]!().catch((e: unknown) => e), name).to.be.instanceOf(NoInterfaceError);
    }
    const bound = await bindInterface(proxy, CalcApiManifest);
    expect(await bound.invoke(99, []).catch((e: unknown) => e)).to.be.instanceOf(NoInterfaceError);
  });

  it('refuses symbol-like names, unlisted getters and fields, and odd indexes, without touching the object', async () => {
    const { proxy } = await startCalc();
    const loose = proxy as Record<string, () => Promise<unknown>>;
    const names = ['leaky', 'heard', 'Symbol(Symbol.iterator)', 'Symbol.iterator', '@@iterator', 'hasOwnProperty', 'valueOf', 'prototype', ''];
    for (const name of names) {
      expect(await loose[name]!().catch((e: unknown) => e), name || '(call)').to.be.instanceOf(NoInterfaceError);
    }
    const bound = await bindInterface(proxy, CalcApiManifest);
    expect(await bound.invoke(CalcApiManifest.methods.length, []).catch((e: unknown) => e)).to.be.instanceOf(NoInterfaceError);
    // Not an index at all: the channel drops the message as malformed before it reaches the apartment.
    for (const index of [-1, 1.5, Number.NaN]) {
      expect(await bound.invoke(index, []).catch((e: unknown) => e), String(index)).to.be.instanceOf(ProtocolError);
    }
    const local = await bindInterface(new CalcImpl(), CalcApiManifest);
    for (const index of [-1, 1.5, Number.NaN, CalcApiManifest.methods.length]) {
      expect(await local.invoke(index, []).catch((e: unknown) => e), `local ${index}`).to.be.instanceOf(NoInterfaceError);
    }
    expect(await (await bindCalcApi(proxy)).touches(), 'the getter never ran').to.equal(0);
  });

  it('fails to bind on a version mismatch, or to an object of another interface', async () => {
    const { proxy, r } = await startCalc();
    const err = await bindInterface(proxy, { ...CalcApiManifest, version: '0000000000000000' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NoInterfaceError);
    expect((err as Error).message).to.contain('[version-mismatch]');
    const other = await r.createObject('Calc');
    expect(await bindCalcApi(other).catch((e: unknown) => e)).to.be.instanceOf(NoInterfaceError);
  });
});

/** Type-check `files` the way a strict user project would; returns the diagnostics' messages. */
function typecheck(files: string[]): string[] {
  const program = ts.createProgram(files, {
    strict: true, noEmit: true, noUnusedLocals: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true,
    types: ['node'], typeRoots: [join(repo, 'node_modules/@types')], lib: ['lib.es2024.d.ts', 'lib.esnext.disposable.d.ts'],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

describe('lib/cli: emission from an inline interface', function () {
  // Each test type-checks generated code with TypeScript's compiler: seconds on a quiet machine,
  // several times that on a loaded one. Nothing here measures speed.
  this.timeout(180_000);
  it('types by-ref parameters and results as remote in every shape, and the result compiles under tsc', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxygen-byref-'));
    writeFileSync(join(dir, 'hub.ts'), [
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
    const { files, problems } = introspect({ files: [join(dir, 'hub.ts')], names: [], outDir: dir });
    expect(problems).to.deep.equal([]);
    const text = emitFile(files[0]!, relative(dir, join(repo, 'lib/index.js')).replace(/\\/g, '/'));
    writeFileSync(join(dir, 'hub.remote.ts'), text);
    expect(text).to.contain('join(...args: [peer: Peer | Remote<Peer>, note: Parameters<Hub[\'join\']>[1], later?: Parameters<Hub[\'join\']>[2]])');
    expect(text).to.contain('joinAll(...args: [peers: (Peer | Remote<Peer>)[], options: { lead: null | Peer | Remote<Peer>; tag?: undefined | string }])');
    expect(text).to.contain('find(...args: Parameters<Hub[\'find\']>): Promise<undefined | Remote<Peer>>');
    expect(text).to.contain('all(...args: Parameters<Hub[\'all\']>): Promise<(Remote<Peer>)[]>');
    expect(text).to.contain('broadcast(...args: [text: Parameters<Hub[\'broadcast\']>[0], ...to: (Peer | Remote<Peer>)[]])');
    // A caller's code: what the types must accept and give.
    writeFileSync(join(dir, 'use.ts'), [
      "import type { Remote } from '" + relative(dir, join(repo, 'lib/index.js')).replace(/\\/g, '/') + "';",
      "import type { Peer } from './hub.js';",
      "import type { HubProxy } from './hub.remote.js';",
      'export async function use(hub: HubProxy, mine: Peer): Promise<string> {',
      '  const found: Remote<Peer> | undefined = await hub.find(\'x\');',
      '  const pinged: Promise<string> | undefined = found?.ping();',
      '  const [first] = await hub.all();',
      '  await hub.join(mine, \'a\');',
      '  await hub.join(first!, \'b\', (n) => void n);',
      '  await hub.joinAll([mine, first!], { lead: found ?? null });',
      '  await hub.broadcast(\'hi\', mine, first!);',
      '  return (await pinged) ?? \'\';',
      '}',
      '',
    ].join('\n'));
    expect(typecheck([join(dir, 'hub.remote.ts'), join(dir, 'use.ts')])).to.deep.equal([]);
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
});
