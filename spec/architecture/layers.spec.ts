// The house rules on structure, checked on the real sources: three floors whose imports run one way
// (lib → apartments → marshal, type-only ones included), no import cycles, no file over 400 lines.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  findPackageRoot, importCycles, oversizedFiles, scanImportGraph, shortestLoop, unresolvedReferences,
  upwardReferences, type ImportGraph, type ModuleReference,
} from './import-graph.js';

/** The floors, deepest first: a file may import its own floor or a lower one. */
const RANKS = { marshal: 0, apartments: 1, lib: 2 } as const;
const FLOORS = Object.keys(RANKS);
const MAX_LINES = 400;

let scanned: ImportGraph | undefined;
/** The real sources, scanned once (the compiled spec sits under dist/, the sources at the package root). */
function realGraph(): ImportGraph {
  const root = findPackageRoot(dirname(fileURLToPath(import.meta.url)), 'apartment-runtime');
  return (scanned ??= scanImportGraph(root, FLOORS));
}

const describeReference = (r: ModuleReference): string => `${r.from}:${r.line} → ${r.target ?? r.specifier} (${r.kind})`;

function cycleReport(graph: ImportGraph, cycles: string[][]): string {
  return cycles
    .map((c, i) => `cycle ${i + 1} (${c.length} files): ${c.join(', ')}\n  e.g. ${shortestLoop(graph, c).join(' → ')}`)
    .join('\n');
}

describe('architecture: imports run one way, lib → apartments → marshal', () => {
  it('no file imports a floor above its own, type-only imports included', () => {
    const upward = upwardReferences(realGraph(), RANKS).map(describeReference);
    expect(upward.length, `${upward.length} upward imports:\n${upward.join('\n')}`).to.equal(0);
  });

  it('every relative import names a source file, so none escapes the check', () => {
    const lost = unresolvedReferences(realGraph()).map(describeReference);
    expect(lost.length, `${lost.length} unresolved imports:\n${lost.join('\n')}`).to.equal(0);
  });
});

describe('architecture: no import cycles among lib/, apartments/, marshal/', () => {
  it('the file graph, type-only and dynamic imports included, has no cycle', () => {
    const graph = realGraph();
    const cycles = importCycles(graph);
    expect(cycles.length, `${cycles.length} import cycles:\n${cycleReport(graph, cycles)}`).to.equal(0);
  });
});

describe(`architecture: source files stay within ${MAX_LINES} lines`, () => {
  it(`no hand-written file in lib/, apartments/, marshal/ is over ${MAX_LINES} lines`, () => {
    const big = oversizedFiles(realGraph(), MAX_LINES).map((f) => `${f.path}: ${f.lineCount} lines`);
    expect(big.length, `${big.length} files over ${MAX_LINES} lines:\n${big.join('\n')}`).to.equal(0);
  });
});

describe('architecture: the import checker finds what it is meant to find', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
    root = undefined;
  });

  /** Write `files` (path → text) under a fresh temporary root and scan it like the real tree. */
  function scanTree(files: Record<string, string>): ImportGraph {
    root = mkdtempSync(join(tmpdir(), 'layers-'));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return scanImportGraph(root, FLOORS);
  }

  it('the real scan covers the three floors and their imports', () => {
    const graph = realGraph();
    expect(graph.files.length).to.be.greaterThan(50);
    for (const floor of FLOORS) expect(graph.files.filter((f) => f.path.startsWith(`${floor}/`)), floor).to.not.be.empty;
    const internal = graph.references.filter((r) => r.resolution === 'file');
    expect(internal.length).to.be.greaterThan(100);
    expect(graph.references.filter((r) => r.resolution === 'external')).to.not.be.empty;
  });

  it('catches an upward reference in every form a module can be named, on its line, and nothing else', () => {
    const forms: Record<string, [string, string]> = {
      'import': ['static', "import { t } from '../lib/target.js';"],
      'import type': ['type-only', "import type { T } from '../lib/target.js';"],
      'export from': ['re-export', "export { t } from '../lib/target.js';"],
      'export type from': ['type-re-export', "export type { T } from '../lib/target.js';"],
      'import = require': ['require', "import target = require('../lib/target.js');"],
      'dynamic import': ['dynamic', "export const load = async () => (await import('../lib/target.js')).t;"],
      'import() type': ['type-query', "export type Target = typeof import('../lib/target.js');"],
    };
    const files: Record<string, string> = {
      'package.json': JSON.stringify({ name: 'synthetic-package', types: './lib/index.ts' }),
      'marshal/self-name.ts': "// names lib/index.ts through the package's own name\nimport { t } from 'synthetic-package';\nexport const v = t;\n",
      'lib/target.ts': "import { ok } from '../marshal/base.js';\nexport const t = ok;\nexport type T = number;\n",
      'lib/index.ts': "export { t } from './target.js';\n",
      'marshal/base.ts': "import { readFileSync } from 'node:fs';\nexport const ok = readFileSync !== undefined;\n",
      'marshal/folder-import.ts': "// names lib/index.ts through its folder\nimport { t } from '../lib';\nexport const u = t;\n",
      'apartments/same-floor.ts': "import { x } from './sibling.js';\nimport { ok } from '../marshal/base.js';\nexport const y = x && ok;\n",
      'apartments/sibling.ts': 'export const x = true;\n',
    };
    for (const [name, statement] of Object.values(forms)) files[`marshal/${name}.ts`] = `// ${name}\n${statement}\n`;
    const upward = upwardReferences(scanTree(files), RANKS);
    const expected = Object.entries(forms).map(([kind, [name]]) => `marshal/${name}.ts:2 → lib/target.ts (${kind})`);
    expected.push('marshal/folder-import.ts:2 → lib/index.ts (import)', 'marshal/self-name.ts:2 → lib/index.ts (import)');
    expect(upward.map(describeReference).sort()).to.deep.equal(expected.sort());
  });

  it('catches cycles of type-only and dynamic imports and a file importing itself, not a plain chain', () => {
    const graph = scanTree({
      'apartments/a.ts': "import type { B } from './b.js';\nexport type A = { b?: B };\n",
      'apartments/b.ts': "export type { A } from './a.js';\nexport type B = number;\n",
      'apartments/c.ts': "import type { A } from './a.js';\nexport type C = A;\n",
      'lib/x.ts': "export const loadY = () => import('./y.js');\n",
      'lib/y.ts': "export type X = typeof import('./x.js');\nexport const y = 1;\n",
      'marshal/self.ts': "export type Self = typeof import('./self.js');\n",
    });
    const cycles = importCycles(graph);
    expect(cycles).to.deep.equal([['apartments/a.ts', 'apartments/b.ts'], ['lib/x.ts', 'lib/y.ts'], ['marshal/self.ts']]);
    expect(shortestLoop(graph, cycles[0]!)).to.deep.equal(['apartments/a.ts', 'apartments/b.ts', 'apartments/a.ts']);
    expect(cycleReport(graph, cycles)).to.contain('lib/x.ts → lib/y.ts → lib/x.ts');
  });

  it('reports a relative import that names no file instead of dropping it', () => {
    const graph = scanTree({ 'marshal/broken.ts': "import { gone } from './moved-away.js';\nexport const x = gone;\n" });
    expect(unresolvedReferences(graph).map(describeReference)).to.deep.equal(['marshal/broken.ts:1 → ./moved-away.js (import)']);
  });

  it('counts lines as an editor does and exempts only generated files under generated/', () => {
    const lines = (n: number, header = '// hand-written\n'): string => header + 'export {};\n'.repeat(n - 1);
    const big = oversizedFiles(scanTree({
      'marshal/at-limit.ts': lines(MAX_LINES),
      'marshal/over.ts': lines(MAX_LINES + 1),
      'lib/generated/api.remote.ts': lines(500, '// Generated by a code generator. Do not edit.\n'),
      'lib/generated/hand.ts': lines(450),
      'lib/elsewhere.ts': lines(430, '// Generated by a code generator, but not under generated/.\n'),
    }), MAX_LINES);
    expect(big.map((f) => `${f.path}: ${f.lineCount}`)).to.deep.equal([
      'lib/elsewhere.ts: 430', 'lib/generated/hand.ts: 450', 'marshal/over.ts: 401',
    ]);
  });
});
