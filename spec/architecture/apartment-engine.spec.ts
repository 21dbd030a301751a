// What the build's last step (.ci/bundle-engine.mjs) promises: an apartment's thread loads the
// runtime as a few module files (engines), the script engine and the process and node links only
// where they are needed, every other path to those modules reaches the same instances, and the
// files are held one byte a character.
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/, where this compiled spec runs from (dist/spec/architecture/). */
const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The engines in build order: a later one may import an earlier one's modules (through their facades), never the reverse. */
const ENGINES = ['apartment-engine.js', 'apartment-engine-links.js', 'apartment-engine-scripts.js'].map((f) => join(DIST, 'lib', f));
const [ENGINE, LINKS, SCRIPTS] = ENGINES as [string, string, string];
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

/** The engine a facade re-exports from. */
function engineOf(facade: string): string {
  const targets = staticImports(facade);
  expect(targets, `${relative(DIST, facade)} imports one engine`).to.have.length(1);
  expect(ENGINES, `${relative(DIST, facade)} imports an engine`).to.include(targets[0]);
  return targets[0]!;
}

describe('architecture/apartment-engine: an apartment thread loads the runtime as a few files, each only where it is needed', () => {
  const starts = [
    { entry: 'lib/worker-main.js', engines: [ENGINE] },
    { entry: 'lib/process-main.js', engines: [ENGINE, LINKS] },
  ];
  for (const { entry, engines } of starts) {
    it(`${entry} reaches only facades and ${engines.map((e) => relative(DIST, e)).join(' and ')}`, () => {
      const start = join(DIST, entry);
      const files = [...reachable(start)].filter((f) => f !== start);
      const others = files.filter((f) => !ENGINES.includes(f) && !FACADE.test(readFileSync(f, 'utf8')));
      expect(others.map((f) => relative(DIST, f)), 'modules loaded besides facades and engines').to.deep.equal([]);
      expect(files.filter((f) => ENGINES.includes(f)).sort(), 'the engines loaded').to.deep.equal([...engines].sort());
      expect(files.length, 'facades (one line each) and the engines').to.be.greaterThan(engines.length + 1);
    });
  }

  it('gives the first engine no import of ours, and each later one only facades of earlier engines', () => {
    expect(staticImports(ENGINE), 'relative imports of the first engine').to.deep.equal([]);
    ENGINES.forEach((engine, i) => {
      for (const imported of staticImports(engine)) {
        const from = engineOf(imported);
        expect(ENGINES.indexOf(from), `${relative(DIST, engine)} imports ${relative(DIST, imported)} of ${relative(DIST, from)}`).to.be.lessThan(i);
      }
    });
  });

  it('keeps the script engine, the byte pipe and the NATS session out of the first engine', () => {
    expect(engineOf(join(DIST, 'lib', 'script-engine', 'script-engine.js'))).to.equal(SCRIPTS);
    expect(engineOf(join(DIST, 'marshal', 'transports', 'pipe-channel.js'))).to.equal(LINKS);
    expect(engineOf(join(DIST, 'marshal', 'transports', 'nats-peer.js'))).to.equal(LINKS);
    expect(engineOf(join(DIST, 'lib', 'apartment-main.js'))).to.equal(ENGINE);
  });
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

/** Every facade under lib/, apartments/ and marshal/ of dist/. */
function facades(): string[] {
  const out: string[] = [];
  for (const folder of ['lib', 'apartments', 'marshal']) {
    for (const entry of readdirSync(join(DIST, folder), { recursive: true, withFileTypes: true })) {
      const file = join(entry.parentPath ?? entry.path, entry.name);
      if (entry.isFile() && file.endsWith('.js') && FACADE.test(readFileSync(file, 'utf8'))) out.push(file);
    }
  }
  return out;
}

describe('architecture/apartment-engine: functions and classes keep their names, without a call per name', () => {
  for (const engine of ENGINES) {
    it(`${relative(DIST, engine)} carries no name pins (esbuild's keepNames runs a call per function at every thread's start)`, () => {
      const pins = readFileSync(engine, 'utf8').match(/__name\(/g) ?? [];
      expect(pins.length, 'calls of __name(').to.equal(0);
    });
  }

  it('names every function and class a module of the engines exports as it is exported', async () => {
    const all = facades();
    expect(all.length, 'facades found').to.be.greaterThan(100);
    const misnamed: string[] = [];
    let checked = 0;
    for (const file of all) {
      for (const [name, value] of Object.entries((await import(file)) as Record<string, unknown>)) {
        // Node's own functions re-exported under our names (util.types' checks) keep Node's names,
        // which are empty on some lines: a bundle cannot rename them.
        if (typeof value !== 'function' || /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(value))) continue;
        checked++;
        if (value.name !== name) misnamed.push(`${relative(DIST, file)}: ${name} is named ${value.name}`);
      }
    }
    expect(checked, 'exported functions and classes').to.be.greaterThan(300);
    expect(misnamed).to.deep.equal([]);
  });
});

describe('architecture/apartment-engine: the engines are held one byte a character', () => {
  for (const engine of ENGINES) {
    it(`${relative(DIST, engine)} holds only ASCII characters, comments included (one other character doubles its size in every thread)`, () => {
      expect(existsSync(engine), relative(DIST, engine)).to.equal(true);
      const bytes = readFileSync(engine);
      const wide = bytes.findIndex((b) => b > 0x7f);
      expect(wide, wide < 0 ? '' : `a non-ASCII byte near: ${bytes.subarray(Math.max(0, wide - 40), wide + 10).toString('latin1')}`).to.equal(-1);
    });
  }
});
