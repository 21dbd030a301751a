// Command-line arguments of apartment-proxygen. No dependencies: a flag table and one pass.

/** What the command line asks for. */
export interface CliOptions {
  inputs: string[];
  out: string | undefined;
  interfaces: string[];
  check: boolean;
  watch: boolean;
  help: boolean;
  version: boolean;
  runtimeImport: string;
}

/** A command line that cannot be understood (exit code 2). */
export class UsageError extends Error {}

export const USAGE = `usage: apartment-proxygen <files or globs…> --out <dir> [options]

Generates typed proxies, stub tables and manifests for the interfaces marked with a JSDoc @remote tag.

options:
  --out <dir>               where the generated *.remote.ts files go (required)
  --interface <Name>        also generate for this interface (repeatable)
  --runtime-import <spec>   module the generated code imports the runtime from (default: apartment-runtime)
  --check                   write nothing; exit 1 if any generated file is missing, stale or orphaned
  --watch                   regenerate whenever an input changes (stop with Ctrl-C)
  --help                    this text
  --version                 the version of apartment-proxygen

exit codes: 0 done, 1 I/O error or stale output (--check), 2 bad arguments or unsupported TypeScript`;

export function parseArgs(argv: readonly string[]): CliOptions {
  const o: CliOptions = { inputs: [], out: undefined, interfaces: [], check: false, watch: false, help: false, version: false, runtimeImport: 'apartment-runtime' };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--out': o.out = value(i++, a); break;
      case '--interface': o.interfaces.push(value(i++, a)); break;
      case '--runtime-import': o.runtimeImport = value(i++, a); break;
      case '--check': o.check = true; break;
      case '--watch': o.watch = true; break;
      case '--help': case '-h': o.help = true; break;
      case '--version': o.version = true; break;
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
        o.inputs.push(a);
    }
  }
  if (!o.help && !o.version) {
    if (o.inputs.length === 0) throw new UsageError('no input files');
    if (!o.out) throw new UsageError('--out <dir> is required');
    if (o.check && o.watch) throw new UsageError('--check and --watch cannot be combined');
  }
  return o;
}
