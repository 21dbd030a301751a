// Loads registered classes into one apartment (dynamic import, once per class) and constructs
// instances. Owner apartment only.
import type { ClassDescriptor, ClassTable } from '../lib/class-registry.js';
import { getContract, type Contract } from '../lib/contracts/contract.js';
import { ContractViolationError, InvalidArgumentError, ModuleLoadError } from '../lib/errors.js';
import { markClassByRef } from '../marshal/by-ref.js';

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

  constructor(
    private readonly classes: ClassTable,
    /** Settles once the apartment's attach hooks have run: nothing is constructed before that. */
    private readonly beforeConstruct: () => Promise<void> = () => Promise.resolve(),
    /** Told of every class loaded here (free classes are adopted by the free-object registry). */
    private readonly onLoaded: (loaded: LoadedClass) => void = () => {},
  ) {}

  /** Makes the object callers get for contracts that do not hand out instances (rental, on the main apartment). */
  constructHook: ((loaded: LoadedClass, args: unknown[]) => object | undefined) | undefined;

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
      p = importClass(descriptor).then((loaded) => {
        this.onLoaded(loaded);
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

  /** Construct an instance here, in this apartment. */
  async construct(name: string, args: unknown[]): Promise<object> {
    if (!Array.isArray(args)) throw new InvalidArgumentError(`[create-args] constructor arguments for '${name}' must be an array`, { parameter: 'args' });
    const loaded = await this.load(name);
    await this.beforeConstruct();
    return this.constructHook?.(loaded, args) ?? new loaded.cls(...args);
  }
}

async function importClass(d: ClassDescriptor): Promise<LoadedClass> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(d.module)) as Record<string, unknown>;
  } catch (err) {
    throw new ModuleLoadError(`[module-load] class '${d.name}': module ${d.module} failed to load (${(err as Error)?.message ?? String(err)}); check the path and that the module is compiled JavaScript`, { cause: err });
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
