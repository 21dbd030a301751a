// Compiling untrusted script text: a syntax error becomes a ScriptError with the 1-based line and
// column V8 reports, instead of a bare SyntaxError.
import vm from 'node:vm';
import { ScriptError } from '../errors.js';

/** Compile `code`; throws ScriptError with line and column on a syntax error. */
export function compileScript(code: string, filename: string): vm.Script {
  if (typeof code !== 'string') throw new ScriptError('[script-text] script text must be a string');
  try {
    return new vm.Script(code, { filename });
  } catch (err) {
    if (!(err instanceof Error) || err.name !== 'SyntaxError') throw err;
    // V8's stack for a compile error: "file:LINE\n<source line>\n<spaces>^^^\n\nSyntaxError: …"
    const lines = String(err.stack).split('\n');
    const line = Number(/:(\d+)$/.exec(lines[0] ?? '')?.[1]);
    const caret = (lines[2] ?? '').indexOf('^');
    const where: { line?: number; column?: number } = {};
    if (Number.isFinite(line)) where.line = line;
    if (where.line !== undefined && caret >= 0) where.column = caret + 1;
    const at = where.line === undefined ? '' : `:${where.line}${where.column === undefined ? '' : `:${where.column}`}`;
    throw new ScriptError(`[script-syntax] ${err.message} at ${filename}${at}; fix the script text`, { cause: err, ...where });
  }
}
