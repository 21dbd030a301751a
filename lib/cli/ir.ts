// The proxy generator's intermediate representation: what introspection found, and nothing of the
// TypeScript compiler. Emission turns it into text; the version hash is computed from it.
import type { ParamSpec, TypeCheck } from '../../marshal/interface-manifest.js';

/** One remote method, in declaration order (its index on the wire). */
export interface MethodIR {
  readonly kind: 'method';
  readonly name: string;
  readonly params: readonly ParamSpec[];
  /**
   * The awaited result when it holds a remote interface (it reaches the caller as a proxy, so the
   * generated proxy types it as Remote<…>); undefined when the declared result type is used as is.
   * For emission only: results are not checked and not part of the version hash.
   */
  readonly result: TypeCheck | undefined;
}

/** One interface marked for remoting. */
export interface InterfaceIR {
  readonly kind: 'interface';
  readonly name: string;
  /** The source file, as the generated file imports it (relative, with .js). */
  readonly importPath: string;
  readonly methods: readonly MethodIR[];
}

/** One input file's interfaces. */
export interface FileIR {
  readonly kind: 'file';
  readonly source: string;
  readonly interfaces: readonly InterfaceIR[];
}

/** A construct the generator cannot support, at a source position (1-based). */
export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** Format a problem the way compilers do: file:line:col: message */
export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.message}`;
}
