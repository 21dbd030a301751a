import { expect } from 'chai';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitFile } from '../../../lib/cli/emit.js';
import { introspect } from '../../../lib/cli/introspect.js';
import type { InterfaceIR } from '../../../lib/cli/ir.js';
import { NoInterfaceError, bindInterface, type InterfaceManifest } from '../../../lib/index.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'proxygen-manifest-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'acme-app', type: 'module' }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function interfacesOf(dir: string, files: string[], names: string[] = []): InterfaceIR[] {
  const r = introspect({ files: files.map((f) => join(dir, f)), names, outDir: join(dir, 'generated') });
  expect(r.problems).to.deep.equal([]);
  return r.files.flatMap((f) => f.interfaces);
}

const LOGGER = '/** @remote */\nexport interface Logger {\n  log(message: string): void;\n}\n';

describe('lib/cli: manifests: identity, members and stability', function () {
  this.timeout(10 * 60_000);

  it('gives two unrelated interfaces of the same name different ids (module and name, or a declared id), so neither binds as the other', async () => {
    const dir = project({ 'src/audit/logger.ts': LOGGER, 'src/net/logger.ts': LOGGER, 'src/declared.ts': LOGGER.replace('@remote', '@remote com.acme.Logger/2') });
    const [audit] = interfacesOf(dir, ['src/audit/logger.ts']);
    const [net] = interfacesOf(dir, ['src/net/logger.ts']);
    const [declared] = interfacesOf(dir, ['src/declared.ts']);
    expect(audit!.id).to.equal('acme-app/src/audit/logger#Logger');
    expect(net!.id).to.equal('acme-app/src/net/logger#Logger');
    expect(declared!.id).to.equal('com.acme.Logger/2');
    expect(audit!.version).to.not.equal(net!.version);
    const manifest = (i: InterfaceIR): InterfaceManifest => ({ id: i.id, name: i.name, version: i.version, members: i.members.map((m) => ({ name: m.name, kind: m.kind, params: [], hash: m.hash })) });
    class NetLogger {
      static remoteInterface = { manifest: manifest(net!), stub: [() => undefined] };
    }
    const err = await bindInterface(new NetLogger(), manifest(audit!)).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NoInterfaceError);
    expect((err as Error).message).to.contain('[no-interface]').and.contain('acme-app/src/audit/logger#Logger');
  });

  it('lists inherited and merged members, optional methods, and well-known symbol members by their written name', () => {
    const dir = project({
      'api.ts': [
        'export interface Base { base(): void; readonly name: string }',
        '/** @remote */',
        'export interface Api extends Base {',
        '  first(this: Api, n: number): number;',
        '  start?(): void;',
        '  [Symbol.iterator](): Iterator<string>;',
        '}',
        'export interface Api { merged(flag: boolean): void }',
        '',
      ].join('\n'),
    });
    const [api] = interfacesOf(dir, ['api.ts']);
    expect(api!.members.map((m) => `${m.kind} ${m.name}`)).to.deep.equal(['method first', 'method start', 'method merged', 'method [Symbol.iterator]', 'method base', 'get name']);
    const member = (name: string): InterfaceIR['members'][number] => api!.members.find((m) => m.name === name)!;
    expect(member('first').signatures[0]!.params.map((p) => p.name), 'a this parameter is not an argument').to.deep.equal(['n']);
    expect(member('start').optional).to.equal(true);
    expect(member('[Symbol.iterator]').result, 'an iterator comes back by reference').to.equal('byref');
  });

  it('writes the same bytes whatever else is on the command line, with no compiler-internal name or path of this machine', () => {
    const other = Array.from({ length: 30 }, (_, i) => `export interface Other${i} { [Symbol.iterator](): Iterator<${i}>; m${i}(x: ${i} | 'v${i}'): void }`).join('\n');
    const api = "/** @remote */\nexport interface Api {\n  [Symbol.asyncIterator](): AsyncIterator<string>;\n  pick(mode: 'b' | 'a' | 3 | 1, at?: Date): void;\n}\n";
    const dir = project({ 'api.ts': api, 'other.ts': `${other}\n/** @remote */\nexport interface Loud { shout(n: 9 | 'a' | 1): void }\n` });
    const alone = introspect({ files: [join(dir, 'api.ts')], names: [], outDir: dir });
    const crowded = introspect({ files: [join(dir, 'other.ts'), join(dir, 'api.ts')], names: ['Other3'], outDir: dir });
    const text = (r: typeof alone): string => emitFile(r.files.find((f) => f.source.endsWith('api.ts'))!, 'apartment-runtime');
    expect(text(crowded)).to.equal(text(alone));
    expect(text(alone)).to.not.match(/__@|__#/).and.not.contain(dir);
    expect(text(alone)).to.contain('name: "[Symbol.asyncIterator]"');
  });
});
