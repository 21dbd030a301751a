// The input files a command line names: paths and globs (`*`, `**`, `?`), expanded in a fixed
// order. Generated files are never inputs.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** TypeScript sources and declaration files; generated `*.remote.*` files excluded. */
const INPUT = /\.(m|c)?tsx?$/;
const GENERATED = /\.remote\.(m|c)?ts$/;

export function isInputFile(file: string): boolean {
  return INPUT.test(file) && !GENERATED.test(file);
}

/** Expand `*` and `**` in a path pattern (Node 20 has no fs.glob). */
export function expand(pattern: string): string[] {
  if (!/[*?]/.test(pattern)) return [resolve(pattern)];
  const parts = resolve(pattern).split('/');
  const firstWild = parts.findIndex((p) => /[*?]/.test(p));
  const base = parts.slice(0, firstWild).join('/') || '/';
  const re = new RegExp(`^${parts.slice(firstWild).join('/').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(?:.*/)?').replace(/\*\*/g, '.*').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const full = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(full).isDirectory()) walk(full, r);
      else if (re.test(r)) out.push(full);
    }
  };
  if (existsSync(base)) walk(base, '');
  return out;
}

/** What the inputs resolved to, or why they cannot be used (with the exit code that says so). */
export type Inputs = { files: string[] } | { error: string; code: 1 | 2 };

export function resolveInputs(patterns: readonly string[]): Inputs {
  const files = new Set<string>();
  for (const pattern of patterns) {
    const matched = expand(pattern);
    const isGlob = /[*?]/.test(pattern);
    if (!isGlob) {
      const file = matched[0]!;
      if (!existsSync(file) || !statSync(file).isFile()) return { error: `cannot read ${file}`, code: 1 };
      if (!INPUT.test(file)) return { error: `${file} is not a TypeScript file (.ts, .mts, .cts, .d.ts, .d.mts)`, code: 2 };
    }
    const usable = matched.filter(isInputFile);
    if (usable.length === 0) return { error: isGlob ? `no input file matched ${pattern}` : `${pattern} is a generated file, not an input`, code: 2 };
    for (const f of usable) files.add(f);
  }
  return { files: [...files] };
}
