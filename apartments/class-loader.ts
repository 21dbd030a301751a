// Loads registered classes into one apartment (dynamic import, once per class) and constructs
// instances. Owner apartment only.
import type { ClassDescriptor, ClassTable } from './class-table.js';
import { getContract, type Contract } from './contract.js';
import { CallTimeoutError, ContractViolationError, InvalidArgumentError, ModuleLoadError } from '../marshal/errors.js';
import { settlesWithin } from '../marshal/long-timer.js';
import { markClassByRef } from '../marshal/by-ref.js';
import { stripsTypeScript } from './node-features.js';

type Constructor = new (...args: unknown[]) => object;

/** A class loaded in this apartment, with the contract it is bound by. */
export interface LoadedClass {
  readonly descriptor: ClassDescriptor;
  readonly cls: Constructor;
  readonly contract: Contract;
}

/** Imports registered classes on demand and caches them by name. */
export class ClassLoader {
  private readonly cache = new Map<string, Promise<LoadedClass>>();
  /** Loaded classes by constructor, so an incoming call finds its target's contract. */
  private readonly byConstructor = new WeakMap<object, LoadedClass>();
  /** Whether any class loaded here has admit(): until one does, calls skip the lookup. */
  private anyAdmitting = false;

  constructor(
    private readonly classes: ClassTable,
    /** Settles once the apartment's attach hooks have run: nothing is constructed before that. */
    private readonly beforeConstruct: () => Promise<void> = () => Promise.resolve(),
    /** Told of every class loaded here (classes marshaled by shared state are adopted by the free-object registry). */
    private readonly onLoaded: (loaded: LoadedClass) => void = () => {},
    /** This apartment's label, for the errors a constructor throws. */
    private readonly where = 'this apartment',
    /**
     * How long a class's module may take to load here before the load fails with CallTimeoutError:
     * the main apartment's call deadline there, whose loads no caller's deadline bounds; Infinity
     * in a worker apartment, whose loads run for calls that have deadlines of their own.
     */
    private readonly loadTimeoutMs = Infinity,
  ) {}

  /**
   * Makes the lease handle callers get for classes of a `leased` contract (rental). Set by the
   * runtime on the main apartment only, where lease registrations live.
   */
  makeLeaseHandle: ((loaded: LoadedClass, args: unknown[]) => object) | undefined;

  /** How many classes are loaded (or loading) here. */
  get size(): number {
    return this.cache.size;
  }

  /** Forget every loaded class (a pooled apartment is being reset). */
  clear(): void {
    this.cache.clear();
  }

  /** Forget a class (it was registered again, perhaps with another module). */
  invalidate(name: string): void {
    this.cache.delete(name);
  }

  load(name: string): Promise<LoadedClass> {
    let p = this.cache.get(name);
    if (!p) {
      let descriptor: ClassDescriptor;
      try {
        descriptor = this.classes.get(name);
      } catch (err) {
        return Promise.reject(err);
      }
      p = withinLoadTime(importClass(descriptor), descriptor, this.loadTimeoutMs, this.where).then((loaded) => {
        this.onLoaded(loaded);
        // A class registered under two names with different contracts takes the last one loaded.
        this.byConstructor.set(loaded.cls, loaded);
        if (loaded.contract.admit !== undefined) this.anyAdmitting = true;
        return loaded;
      });
      this.cache.set(name, p);
      p.catch(() => this.cache.delete(name));
    }
    return p;
  }

  /**
   * The contract of a registered class: from its registration, else from the class itself. The
   * module is loaded first even when the registration names the contract, because a custom contract
   * is defined by code that the class's module imports in every thread.
   */
  async contractOf(name: string): Promise<Contract> {
    return (await this.load(name)).contract;
  }

  /**
   * The loaded class `instance` was made from (the nearest registered class on its prototype chain),
   * if any — looked up only once some class loaded here has a contract with admit(), since that is
   * what callers need it for. Reads prototypes, never the instance's own members: exported objects
   * may be proxies whose traps throw (a released rental lease).
   */
  classForAdmission(instance: object): LoadedClass | undefined {
    if (!this.anyAdmitting) return undefined;
    try {
      for (let p = Object.getPrototypeOf(instance) as object | null; p !== null && p !== Object.prototype && p !== Function.prototype; p = Object.getPrototypeOf(p) as object | null) {
        const ctor = Object.getOwnPropertyDescriptor(p, 'constructor')?.value as unknown;
        const loaded = typeof ctor === 'function' ? this.byConstructor.get(ctor) : undefined;
        if (loaded) return loaded;
      }
    } catch {
      // A prototype chain with a throwing proxy in it belongs to no registered class.
    }
    return undefined;
  }

  /** Construct an instance here, in this apartment. */
  async construct(name: string, args: unknown[]): Promise<object> {
    if (!Array.isArray(args)) throw new InvalidArgumentError(`[create-args] constructor arguments for '${name}' must be an array`, { parameter: 'args' });
    const loaded = await this.load(name);
    await this.beforeConstruct();
    if (loaded.contract.residence === 'leased') {
      const handle = this.makeLeaseHandle?.(loaded, args);
      if (handle === undefined) {
        throw new ContractViolationError(`[leased-placement] class '${name}' uses contract '${loaded.contract.name}', whose objects are leased: their lease handles live in the main apartment, so the contract's place() must answer { kind: 'main' }`);
      }
      return handle;
    }
    try {
      return new loaded.cls(...args);
    } catch (err) {
      // The user's error keeps its class (a RangeError stays one) and gains where it came from.
      if (err instanceof Error && !err.message.startsWith('[constructor]')) {
        err.message = `[constructor] class '${name}' in ${this.where} threw: ${err.message}`;
      }
      throw err;
    }
  }
}

/**
 * `loading`, failed with CallTimeoutError once `ms` have passed: a module whose top-level code awaits
 * something that never settles would otherwise leave every creation of its class waiting for good.
 * The import goes on; a later load of the class waits for it again.
 */
async function withinLoadTime(loading: Promise<LoadedClass>, d: ClassDescriptor, ms: number, where: string): Promise<LoadedClass> {
  if (await settlesWithin(loading, ms)) return loading;
  throw new CallTimeoutError(`[module-timeout] class '${d.name}': module ${d.module} did not finish loading in ${where} within ${ms} ms (does its top-level code await something that never settles?); fix the module, or raise the runtime's defaultTimeoutMs if it is only slow`, { started: true });
}

async function importClass(d: ClassDescriptor): Promise<LoadedClass> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(d.module)) as Record<string, unknown>;
  } catch (err) {
    throw typeScriptLoadError(d, err) ?? new ModuleLoadError(`[module-load] class '${d.name}': module ${d.module} failed to load (${(err as Error)?.message ?? String(err)}); check the path and that the module is compiled JavaScript`, { cause: err });
  }
  const cls = mod[d.export];
  if (typeof cls !== 'function') {
    throw new ModuleLoadError(`[module-export] class '${d.name}': module ${d.module} has no class export '${d.export}' (it exports: ${Object.keys(mod).join(', ') || 'nothing'}); fix the export name in registerClass`);
  }
  const declared = (cls as { threading?: unknown }).threading;
  if (declared !== undefined && typeof declared !== 'string') {
    throw new ContractViolationError(`[contract-declaration] class '${d.name}' declares a static threading field that is not a contract name; use e.g. static threading = 'apartment'`);
  }
  if (d.threading !== undefined && declared !== undefined && d.threading !== declared) {
    throw new ContractViolationError(`[contract-mismatch] class '${d.name}' is registered as '${d.threading}' but declares static threading = '${declared}'; make them agree`);
  }
  const contract = getContract(d.threading ?? (declared as string | undefined) ?? 'apartment');
  markClassByRef(cls as Constructor);
  return { descriptor: d, cls: cls as Constructor, contract };
}

/**
 * Why a TypeScript module did not load, when that is the reason: this Node strips no types (and no
 * loader was given), or the module uses syntax that stripping cannot erase. Undefined otherwise.
 */
function typeScriptLoadError(d: ClassDescriptor, err: unknown): ModuleLoadError | undefined {
  if (!/^file:.*\.[cm]?ts$/i.test(d.module)) return undefined;
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && !stripsTypeScript()) {
    return new ModuleLoadError(`[module-typescript] class '${d.name}': module ${d.module} is TypeScript, and this Node does not strip types (Node 22.18 and later do); run on such a Node, compile the module to JavaScript, or start Node with a TypeScript loader`, { cause: err });
  }
  if (typeof code === 'string' && code.startsWith('ERR_UNSUPPORTED_') && code.includes('TYPE')) {
    return new ModuleLoadError(`[module-typescript] class '${d.name}': module ${d.module} cannot be loaded by stripping its types (${(err as Error).message}); keep to erasable syntax (no enum, namespace with code, or constructor parameter properties) outside node_modules, or compile the module to JavaScript`, { cause: err });
  }
  return undefined;
}
