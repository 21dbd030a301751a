// One run of apartment-proxygen over a command line: introspect, emit, then write (or, with
// --check, compare) each generated file, and remove the outputs of inputs that no longer declare
// a remote interface. Reports on the streams it is given; returns the exit code.
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { CliOptions } from './args.js';
import { emitFile, generatedHeader } from './emit.js';
import { resolveInputs } from './inputs.js';
import { formatProblem } from './ir.js';
import { introspect, outputName } from './introspect.js';

export interface Streams {
  out(line: string): void;
  err(line: string): void;
}

export interface Generation {
  readonly code: number;
  /** The files the run read (inputs and the project files they import): what --watch follows. */
  readonly read: readonly string[];
}

export function generate(options: CliOptions, io: Streams): Generation {
  const inputs = resolveInputs(options.inputs);
  if ('error' in inputs) {
    io.err(`apartment-proxygen: ${inputs.error}`);
    return { code: inputs.code, read: [] };
  }
  const outDir = resolve(options.out!);
  const byOutput = new Map<string, string>();
  for (const f of inputs.files) {
    const target = resolve(outDir, outputName(f));
    const other = byOutput.get(target);
    if (other) {
      io.err(`apartment-proxygen: ${other} and ${f} would both generate ${target}; generate them into separate directories`);
      return { code: 2, read: [] };
    }
    byOutput.set(target, f);
  }
  const result = introspect({ files: inputs.files, names: options.interfaces, outDir });
  const read = result.program.getSourceFiles().filter((sf) => !result.program.isSourceFileDefaultLibrary(sf) && !sf.fileName.includes('/node_modules/')).map((sf) => sf.fileName);
  if (result.problems.length > 0) {
    for (const p of result.problems) io.err(formatProblem(p));
    return { code: 2, read };
  }
  const stale: string[] = [];
  let written = 0;
  let unchanged = 0;
  let removed = 0;
  const generated = new Set<string>();
  for (const ir of result.files) {
    generated.add(ir.source);
    const text = emitFile(ir, options.runtimeImport);
    const current = existsSync(ir.output) ? readFileSync(ir.output, 'utf8') : undefined;
    if (options.verbose) {
      for (const i of ir.interfaces) io.out(`  ${i.name} (${i.id}, version ${i.version}): ${i.members.length} member(s) → ${relative(process.cwd(), ir.output)}`);
    }
    if (current === text) {
      unchanged++;
      continue;
    }
    if (options.check) {
      stale.push(`${current === undefined ? 'missing' : 'stale'}: ${ir.output}`);
      continue;
    }
    try {
      mkdirSync(outDir, { recursive: true });
      writeFileSync(ir.output, text);
      written++;
    } catch (err) {
      io.err(`apartment-proxygen: cannot write ${ir.output}: ${(err as Error).message}`);
      return { code: 1, read };
    }
  }
  // An input that no longer declares a remote interface leaves its old output behind: generation
  // removes it and --check reports it, but only a file this tool generated from that same input.
  for (const source of inputs.files.filter((f) => !generated.has(f))) {
    const target = resolve(outDir, outputName(source));
    if (!isGeneratedFrom(target, source)) continue;
    if (options.check) {
      stale.push(`orphaned: ${target}`);
      continue;
    }
    try {
      unlinkSync(target);
      removed++;
    } catch (err) {
      io.err(`apartment-proxygen: cannot remove ${target}: ${(err as Error).message}`);
      return { code: 1, read };
    }
  }
  if (stale.length > 0) {
    for (const s of stale) io.err(s);
    io.err('apartment-proxygen: generated files are missing, stale or orphaned; run apartment-proxygen without --check');
    return { code: 1, read };
  }
  const interfaces = result.files.reduce((n, f) => n + f.interfaces.length, 0);
  const members = result.files.reduce((n, f) => n + f.interfaces.reduce((m, i) => m + i.members.length, 0), 0);
  io.out(options.check
    ? `apartment-proxygen: ${result.files.length} generated file(s) up to date (${interfaces} interface(s), ${members} member(s))`
    : `apartment-proxygen: ${interfaces} interface(s), ${members} member(s) from ${inputs.files.length} file(s): ${written} written, ${unchanged} unchanged${removed > 0 ? `, ${removed} removed` : ''}`);
  return { code: 0, read };
}

/** Whether `target` is a file apartment-proxygen generated from `source` (its first line says so). */
function isGeneratedFrom(target: string, source: string): boolean {
  let text: string;
  try {
    text = readFileSync(target, 'utf8');
  } catch {
    return false;
  }
  return text.slice(0, text.indexOf('\n')) === generatedHeader(source);
}
