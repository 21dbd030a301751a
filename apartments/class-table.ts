// The classes a runtime can create by name (COM's class registrations). The main apartment owns
// the table; every worker apartment holds a copy, kept in step by the runtime.
import { isAbsolute } from 'node:path';
import { ClassNotRegisteredError, InvalidArgumentError, shownValue } from '../marshal/errors.js';
import { getContract } from './contract.js';
import { checkOptionKeys, optionKeys } from '../marshal/option-keys.js';

/** How a caller registers a class: where its module is, which export, and (optionally) its contract. */
export interface ClassRegistration {
  /**
   * The module (an ES module the worker can import): an absolute file URL or path, or — with
   * `base` — a relative path or a package specifier ('my-plugins/calc') resolved from `base`.
   * `import.meta.resolve('my-plugins/calc')` gives an absolute URL with your module's own conditions.
   */
  module: string | URL;
  /** Where a relative or package `module` is resolved from, typically `import.meta.url`. */
  base?: string | URL;
  /** The export naming the class (default: 'default'). */
  export?: string;
  /** Threading contract; when omitted, the class's static `threading` field, else 'apartment'. */
  threading?: string;
}
/** The keys registerClass() takes; any other (a misspelt threading, say) is refused. */
const REGISTRATION_KEYS = optionKeys<ClassRegistration>({ module: true, base: true, export: true, threading: true });

/** A validated registration as it is stored and sent to apartments (structured-cloneable). */
export interface ClassDescriptor {
  readonly name: string;
  readonly module: string;
  readonly export: string;
  readonly threading: string | undefined;
}

/** Validate and normalise a registration. */
export function describeClass(name: string, reg: ClassRegistration): ClassDescriptor {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidArgumentError(`[class-name] a class needs a non-empty string name`, { parameter: 'name' });
  }
  if (reg === null || typeof reg !== 'object') {
    throw new InvalidArgumentError(`[class-registration] registerClass('${name}', …) needs { module, export?, threading? }`, { parameter: 'registration' });
  }
  checkOptionKeys(reg, REGISTRATION_KEYS, `registerClass('${name}', …)`, 'registration');
  let module: string;
  if (reg.module instanceof URL) module = reg.module.href;
  else if (typeof reg.module === 'string' && /^(file|data):/.test(reg.module)) module = reg.module;
  else if (typeof reg.module === 'string' && isAbsolute(reg.module)) module = process.getBuiltinModule('node:url').pathToFileURL(reg.module).href;
  else if (typeof reg.module === 'string' && reg.base !== undefined) module = resolveFrom(name, reg.module, reg.base);
  else {
    throw new InvalidArgumentError(`[class-module] class '${name}' needs an absolute module URL or path (try new URL('./calc.js', import.meta.url)), or a package specifier with base: import.meta.url; got ${shownValue(reg.module)}`, { parameter: 'module' });
  }
  const exportName = reg.export ?? 'default';
  if (typeof exportName !== 'string' || exportName.length === 0) {
    throw new InvalidArgumentError(`[class-export] class '${name}' needs a non-empty export name`, { parameter: 'export' });
  }
  if (reg.threading !== undefined) getContract(reg.threading);
  return Object.freeze({ name, module, export: exportName, threading: reg.threading });
}

/** Resolve a relative path or package specifier from `base` to a file URL, or say why not. */
function resolveFrom(name: string, specifier: string, base: string | URL): string {
  try {
    const from = new URL(base);
    if (/^\.{1,2}\//.test(specifier)) return new URL(specifier, from).href;
    // Package resolution with the exports map's "node"/"default" conditions, from base's folder.
    // node:module and node:url when asked, not at import: 0.7 ms of every worker apartment's start.
    const { createRequire } = process.getBuiltinModule('node:module');
    return process.getBuiltinModule('node:url').pathToFileURL(createRequire(from).resolve(specifier)).href;
  } catch (err) {
    throw new InvalidArgumentError(`[class-module] class '${name}': cannot resolve '${specifier}' from ${shownValue(base)} (${shownValue((err as Error).message).split('\n')[0]}); pass import.meta.resolve('${specifier}') as module instead`, { parameter: 'module', cause: err });
  }
}

/** Registered classes by name. Owner thread only. */
/**
 * `name` when it can name a class: not "register it first" for a number or undefined, as no class
 * is registered under anything but a non-empty string.
 */
export function checkClassName(name: unknown): string {
  if (typeof name === 'string' && name !== '') return name;
  throw new InvalidArgumentError(`[class-name] a class is named by the string it was registered under; got ${name === '' ? 'an empty string' : shownValue(name)}`, { parameter: 'className' });
}

export class ClassTable {
  private readonly byName = new Map<string, ClassDescriptor>();

  constructor(initial: readonly ClassDescriptor[] = []) {
    for (const d of initial) this.byName.set(d.name, d);
  }

  set(descriptor: ClassDescriptor): void {
    this.byName.set(descriptor.name, descriptor);
  }

  get(name: string): ClassDescriptor {
    const d = this.byName.get(name);
    if (!d) {
      checkClassName(name);
      throw new ClassNotRegisteredError(`[class-not-registered] no class named '${shownValue(name)}' is registered; call runtime.registerClass('${shownValue(name)}', { module, export }) first`);
    }
    return d;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): ClassDescriptor[] {
    return [...this.byName.values()];
  }
}
