// Command-line arguments of apartment-proxygen. No dependencies: a flag table and one pass.

/** What the command line asks for. */
export interface CliOptions {
  inputs: string[];
  out: string | undefined;
  interfaces: string[];
  check: boolean;
  watch: boolean;
  verbose: boolean;
  help: boolean;
  version: boolean;
  runtimeImport: string;
}

/** A command line that cannot be understood (exit code 2). */
export class UsageError extends Error {}

export const USAGE = `usage: apartment-proxygen <files or globs…> --out <dir> [options]

Generates typed proxies, stub tables and manifests for the interfaces marked with a JSDoc @remote tag
(and those named with --interface). Inputs may be .ts, .mts, .cts or declaration files (.d.ts, .d.mts).

options:
  --out <dir>               where the generated *.remote.ts files go (required)
  --interface <Name>        also generate for this interface or object type alias (repeatable; NS.Name
                            for one inside a namespace); a name that matches nothing is an error
  --runtime-import <spec>   module the generated code imports the runtime from (default: apartment-runtime)
  --check                   write nothing; exit 1 if any generated file is missing, stale or orphaned
  --watch                   regenerate whenever an input or a file it imports changes (stop with Ctrl-C)
  -v, --verbose             list every interface generated
  -h, --help                this text
  --version                 the version of apartment-proxygen
Options that take a value accept it as the next argument or after '=' (--out=generated).

exit codes: 0 done, 1 I/O error or stale output (--check), 2 bad arguments or unsupported TypeScript`;

const WITH_VALUE = new Set(['--out', '--interface', '--runtime-import']);

export function parseArgs(argv: readonly string[]): CliOptions {
  const o: CliOptions = { inputs: [], out: undefined, interfaces: [], check: false, watch: false, verbose: false, help: false, version: false, runtimeImport: 'apartment-runtime' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    let value: string | undefined;
    if (WITH_VALUE.has(flag)) {
      value = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '' || (eq < 0 && value.startsWith('-'))) throw new UsageError(`${flag} needs a value`);
    } else if (eq > 0) {
      throw new UsageError(`${flag} takes no value`);
    }
    switch (flag) {
      case '--out': o.out = value; break;
      case '--interface': o.interfaces.push(value!); break;
      case '--runtime-import': o.runtimeImport = value!; break;
      case '--check': o.check = true; break;
      case '--watch': o.watch = true; break;
      case '--verbose': case '-v': o.verbose = true; break;
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
