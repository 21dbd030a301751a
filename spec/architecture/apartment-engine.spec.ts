// What the build's last step (.ci/bundle-engine.mjs) promises: an apartment's thread loads the
// runtime as one module file, every other path to those modules reaches the same instances, and
// the file is held one byte a character.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/, where this compiled spec runs from (dist/spec/architecture/). */
const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENGINE = join(DIST, 'lib', 'apartment-engine.js');
const FACADE = /^\/\/ Facade: /;

/** The relative modules a compiled file imports statically. */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'";]*?(?:from\s*)?['"](\.[^'"]+)['"]/gm)) out.push(join(dirname(file), m[1]!));
  return out;
}

/** Every file reached from `entry` through relative static imports, `entry` included. */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const next of staticImports(file)) walk(next);
  };
  walk(entry);
  return seen;
}

describe('architecture/apartment-engine: an apartment thread loads the runtime as one file', () => {
  for (const entry of ['lib/worker-main.js', 'lib/process-main.js']) {
    it(`${entry} reaches only facades and the engine, and the engine imports no module of ours`, () => {
      const files = [...reachable(join(DIST, entry))];
      const others = files.filter((f) => f !== join(DIST, entry) && f !== ENGINE && !FACADE.test(readFileSync(f, 'utf8')));
      expect(others.map((f) => relative(DIST, f)), 'modules loaded besides facades and the engine').to.deep.equal([]);
      expect(files, 'the engine is loaded').to.include(ENGINE);
      expect(files.length, 'facades (one line each) and the engine').to.be.greaterThan(2);
      expect(staticImports(ENGINE), 'relative imports of the engine').to.deep.equal([]);
      for (const facade of files.filter((f) => f !== ENGINE && f !== join(DIST, entry))) {
        expect(staticImports(facade), relative(DIST, facade)).to.deep.equal([ENGINE]);
      }
    });
  }
});

describe('architecture/apartment-engine: one instance of each module, whatever the path', () => {
  it("gives the package's entry, the error module's own path and a facade's importer the same classes and state", async () => {
    const index = (await import(join(DIST, 'lib', 'index.js'))) as Record<string, unknown>;
    const errors = (await import(join(DIST, 'marshal', 'errors.js'))) as Record<string, unknown>;
    const context = (await import(join(DIST, 'apartments', 'context.js'))) as Record<string, unknown>;
    expect(index.CallTimeoutError, 'an error class').to.be.a('function').and.equal(errors.CallTimeoutError);
    expect(index.ApartmentError).to.equal(errors.ApartmentError);
    expect(Object.keys(context).length, "the context module's exports").to.be.greaterThan(0);
    for (const [name, value] of Object.entries(errors)) {
      if (typeof value === 'function') expect(value.name, `${name} keeps its name in the engine`).to.equal(name);
    }
  });
});

describe('architecture/apartment-engine: the engine is held one byte a character', () => {
  it('holds only ASCII characters, comments included (one other character doubles its size in every thread)', () => {
    expect(existsSync(ENGINE), 'dist/lib/apartment-engine.js').to.equal(true);
    const bytes = readFileSync(ENGINE);
    const wide = bytes.findIndex((b) => b > 0x7f);
    expect(wide, wide < 0 ? '' : `a non-ASCII byte near: ${bytes.subarray(Math.max(0, wide - 40), wide + 10).toString('latin1')}`).to.equal(-1);
  });
});
