// Objects marshaled by their shared state (COM's MTA and free-threaded marshaler): the classes of
// contracts whose marshal rule is `free-pool` (the built-in `free`) or `agile`. Such a class keeps
// its instance state in shared memory: `toShared()` returns it (SharedArrayBuffers and plain data)
// and the static `fromShared(state)` builds a view bound to the same memory. References travel as
// that state, never as an ObjRef:
// - under an `agile` contract, in a free-pool thread, or when the class is `static agile = true`,
//   the receiver gets its own local view: calls run on the caller's thread with no hop;
// - elsewhere, the receiver gets a handle whose calls run on whichever pool thread is least busy,
//   so two calls to one object really run in parallel.
// One registry per thread (the thread's apartment owns it).
import { admitRefusal } from './contract-admit.js';
import type { Contract } from './contract.js';
import { currentCall } from './context.js';
import { ContractViolationError, DisconnectedError, InvalidArgumentError } from '../marshal/errors.js';
import { CUSTOM_MARSHAL, type CustomMarshaled } from '../marshal/by-ref.js';
import { isProxy } from '../marshal/proxy.js';
import { INDIRECT } from '../marshal/remote-state.js';
import type { Endpoint } from '../marshal/endpoint.js';
import { ANY_ROLE, controlClient, controlService, endpointTransport, type ControlClient, type ControlRouter } from './control-plane.js';
import { id, list, name, record } from './control-args.js';
import { invokeMember } from '../marshal/stub.js';
import { randomId } from '../marshal/random-ids.js';
import type { ClassLoader } from './class-loader.js';

/** What a free class must provide. */
export interface FreeClass {
  new (...args: never[]): { toShared(): unknown };
  fromShared(state: unknown): object;
  agile?: boolean;
}

/** The by-value form of a free object. */
export interface FreePayload {
  fid: string;
  className: string;
  shared: unknown;
  agile: boolean;
  /** The free pool's apartments when the reference was made. */
  pool: number[];
}

const FREE_KEY = 'free';
/** Views a pool thread keeps (they can always be rebuilt from the shared state). */
const MAX_VIEWS = 10_000;

/** This thread's free-object state: ids of the objects made here, views, and calls in flight per pool thread. */
export class FreeObjects {
  private readonly ids = new WeakMap<object, FreePayload>();
  private readonly views = new Map<string, object>();
  private readonly building = new Map<string, Promise<object>>();
  private readonly inFlight = new Map<number, number>();
  /** One live handle per free object in this apartment (identity, as one proxy per object). */
  private readonly handles = new Map<string, WeakRef<object>>();
  private readonly handleGone = new FinalizationRegistry<string>((fid) => {
    if (this.handles.get(fid)?.deref() === undefined) this.handles.delete(fid);
  });
  private rotate = 0;

  constructor(
    private readonly apartmentId: number,
    /** Whether this thread belongs to the free pool (it may hold direct views). */
    private readonly inPool: boolean,
    private readonly loader: ClassLoader,
    private readonly endpoint: Endpoint,
    private readonly poolIds: () => number[],
    private readonly label: (apartment: number) => string = (id) => `apartment ${id}`,
  ) {
    endpoint.registerUnmarshaler(FREE_KEY, (payload) => this.unmarshal(payload as FreePayload));
  }

  /**
   * Make instances of `cls` travel by their shared state, as `contract`'s marshal rule says (called
   * when the class is loaded here). A class without shared state cannot: refused, rather than
   * quietly marshaled some other way.
   */
  adopt(className: string, cls: FreeClass, contract: Contract): void {
    if (typeof cls.fromShared !== 'function' || typeof (cls.prototype as { toShared?: unknown }).toShared !== 'function') {
      const tag = contract.marshal === 'agile' ? 'agile-class' : 'free-class';
      throw new ContractViolationError(`[${tag}] class '${className}' uses contract '${contract.name}', which marshals '${contract.marshal}' (by its shared state), but lacks toShared() and static fromShared(state); keep its state in shared memory and provide both, or use a contract that marshals 'standard'`);
    }
    const agile = contract.marshal === 'agile' || cls.agile === true;
    const registry = this;
    Object.defineProperty(cls.prototype, CUSTOM_MARSHAL, {
      configurable: true,
      value(this: { toShared(): unknown }): CustomMarshaled {
        return { key: FREE_KEY, payload: registry.describe(this, className, agile), sharedMemory: true };
      },
    });
  }

  /**
   * Call a method of a free object on this pool thread (the pool's control object calls this, for a
   * pool handle in another apartment): the call crossed apartments, so its contract admits it first.
   */
  async invoke(payload: FreePayload, method: string, args: unknown[]): Promise<unknown> {
    const [view, loaded] = await Promise.all([this.view(payload), this.loader.load(payload.className)]);
    const caller = currentCall()?.callerApartment;
    if (caller !== undefined) {
      const refusal = admitRefusal(loaded.contract, { className: payload.className, method, callerApartment: caller, apartment: this.apartmentId }, this.label);
      if (refusal) throw refusal;
    }
    return invokeMember(view, method, args);
  }

  private describe(instance: { toShared(): unknown }, className: string, agile: boolean): FreePayload {
    let payload = this.ids.get(instance);
    if (agile) checkAgile(instance, className);
    if (!payload) {
      // The id is what a pool thread finds its view of the object by, for any apartment that names it
      // (free.invoke): unguessable, it is held only by those the payload was handed to. A counter
      // let a plugin that was handed nothing call other apartments' free objects.
      payload = { fid: `${this.apartmentId}.${randomId()}`, className, shared: instance.toShared(), agile, pool: this.poolIds() };
      this.ids.set(instance, payload);
      this.remember(payload.fid, instance);
    }
    return payload;
  }

  private unmarshal(payload: FreePayload): unknown {
    if (this.inPool || payload.agile) return this.view(payload);
    // Made here, coming home: the object itself. Otherwise the one handle this apartment has for it.
    const own = this.views.get(payload.fid);
    if (own) return own;
    const known = this.handles.get(payload.fid)?.deref();
    if (known) return known;
    const handle = this.handle(payload);
    this.handles.set(payload.fid, new WeakRef(handle));
    this.handleGone.register(handle, payload.fid);
    return handle;
  }

  private view(payload: FreePayload): Promise<object> | object {
    const known = this.views.get(payload.fid);
    if (known) return known;
    // One view per object per thread, even when several calls arrive before the class has loaded.
    let building = this.building.get(payload.fid);
    if (!building) {
      building = this.loader.load(payload.className).then((loaded) => {
        const view = (loaded.cls as unknown as FreeClass).fromShared(payload.shared);
        this.ids.set(view, payload);
        this.remember(payload.fid, view);
        return view;
      }).finally(() => this.building.delete(payload.fid));
      this.building.set(payload.fid, building);
    }
    return building;
  }

  private remember(fid: string, view: object): void {
    if (this.views.size >= MAX_VIEWS) this.views.delete(this.views.keys().next().value as string);
    this.views.set(fid, view);
  }

  /**
   * A handle whose calls run in the free pool, on the least busy thread. It holds no reference in
   * another apartment (the object is its shared state), so releasing it (release(), dispose) only
   * retires this handle: later calls and marshals fail with DisconnectedError, while other handles
   * and views of the same object keep working. The shared memory goes when nothing references it.
   */
  private handle(payload: FreePayload): object {
    const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
    let released = false;
    const gone = (): DisconnectedError => new DisconnectedError(`[handle-released] this handle on a free ${payload.className} was released; use another reference to it`, { code: 'CO_E_OBJNOTCONNECTED' });
    const dispose = (): void => {
      released = true;
      // A reference that arrives later gets a new, working handle.
      if (this.handles.get(payload.fid)?.deref() === handle) this.handles.delete(payload.fid);
    };
    const call = (method: string, args: unknown[]): Promise<unknown> => {
      if (released) return Promise.reject(gone());
      const target = this.pickPoolThread(payload.pool);
      this.inFlight.set(target, (this.inFlight.get(target) ?? 0) + 1);
      const done = (): void => {
        this.inFlight.set(target, this.inFlight.get(target)! - 1);
      };
      const p = this.poolThread(target).invoke(payload, method, args);
      p.then(done, done);
      return p;
    };
    const handle: object = new Proxy({}, {
      get(_t, prop) {
        if (prop === CUSTOM_MARSHAL) {
          return (): CustomMarshaled => {
            if (released) throw gone();
            return { key: FREE_KEY, payload, sharedMemory: true };
          };
        }
        if (prop === INDIRECT) return true;
        if (prop === Symbol.dispose) return dispose;
        if (prop === Symbol.asyncDispose) return () => Promise.resolve(dispose());
        if (typeof prop === 'symbol' || prop === 'then') return undefined;
        let fn = methods.get(prop);
        if (!fn) methods.set(prop, (fn = (...args: unknown[]) => call(prop, args)));
        return fn;
      },
      set() {
        throw new TypeError('[remote-set] properties of a free-threaded object cannot be set through a pool handle; call a method');
      },
    });
    return handle;
  }

  private readonly poolClients = new Map<number, ControlClient<FreeApi>>();

  private poolThread(target: number): ControlClient<FreeApi> {
    let client = this.poolClients.get(target);
    if (!client) this.poolClients.set(target, (client = controlClient(endpointTransport(this.endpoint), target, FreeService)));
    return client;
  }

  private pickPoolThread(pool: readonly number[]): number {
    if (pool.length === 0) throw new InvalidArgumentError('[free-pool] this free object has no pool threads to run on');
    let best = pool[this.rotate++ % pool.length]!;
    for (const id of pool) if ((this.inFlight.get(id) ?? 0) < (this.inFlight.get(best) ?? 0)) best = id;
    return best;
  }
}

/**
 * An agile object is handed to other apartments as a direct view, so it must hold nothing that is
 * bound to one apartment: no proxies and no functions in its own fields.
 */
function checkAgile(instance: object, className: string): void {
  for (const [key, value] of Object.entries(instance)) {
    if (isProxy(value) || typeof value === 'function') {
      throw new ContractViolationError(`[agile-unsafe] agile class '${className}' holds ${isProxy(value) ? 'a proxy' : 'a function'} in field '${key}'; an agile object is used directly from every apartment and may hold only shared state — drop 'agile' or keep that reference elsewhere`);
    }
  }
}


/** Running free-threaded objects' calls on a pool thread (served by the free pool's threads). */
export interface FreeApi {
  invoke(payload: FreePayload, method: string, args: unknown[]): unknown;
}
export const FreeService = controlService<FreeApi>('free');

/** Serve free-object calls on a pool thread. */
export function serveFree(router: ControlRouter, objects: FreeObjects): void {
  router.register(FreeService, {
    invoke: {
      roles: ANY_ROLE,
      check: (args) => [freePayload(args[0]), name(args[1], 'method'), list(args[2], 'args', 1_000)],
      run: (_caller, payload, method, args) => objects.invoke(payload, method, args),
    },
  });
}

function freePayload(value: unknown): FreePayload {
  const p = record(value, 'payload');
  const pool = list(p['pool'], 'payload.pool', 1_024).map((t, i) => id(t, `payload.pool[${i}]`));
  return { fid: name(p['fid'], 'payload.fid'), className: name(p['className'], 'payload.className'), shared: p['shared'], agile: p['agile'] === true, pool };
}
