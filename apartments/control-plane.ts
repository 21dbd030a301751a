// Named, typed control services: what apartments ask of each other's runtime parts (create an
// object, connect to a peer, open a named mutex…), as opposed to calls on user objects. Each
// service has a TypeScript interface shared by both sides; the serving side says, per method,
// which roles may call it and how its untrusted arguments are checked. Services are reached
// through the control object every apartment serves at CONTROL_OID, as `service.method`.
import { currentCall } from './context.js';
import type { Endpoint } from '../marshal/endpoint.js';
import { CONTROL_OID } from '../marshal/protocol.js';
import { AccessDeniedError, ApartmentError, InvalidArgumentError } from '../marshal/errors.js';

/**
 * Who is calling, judged from the link the call arrived on (never from what the caller says):
 * the main apartment (the runtime itself, which also brokers links), a worker apartment, or a
 * thread of the free pool.
 */
export type ControlRole = 'main' | 'worker' | 'pool';

/** Every role: for methods any apartment of the runtime may call. */
export const ANY_ROLE: readonly ControlRole[] = ['main', 'worker', 'pool'];
/** Apartments other than the main one. */
export const APARTMENT_ROLES: readonly ControlRole[] = ['worker', 'pool'];
/** The main apartment only: lifecycle and everything that changes what an apartment is. */
export const MAIN_ROLE: readonly ControlRole[] = ['main'];

/** A control service's name, carrying its interface type for typed clients. */
export interface ControlServiceId<Api> {
  readonly name: string;
  /** Methods sent as one-way notifications (no reply, no deadline). */
  readonly oneWay: readonly (keyof Api & string)[];
  /** Type-level only: the interface both sides share. */
  readonly api?: Api;
}

/** Name a control service and its interface; `oneWay` lists its notification methods. */
export function controlService<Api>(name: string, oneWay: readonly (keyof Api & string)[] = []): ControlServiceId<Api> {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new InvalidArgumentError(`[control-service] a service name is lower-case letters, digits and '-'; got '${name}'`, { parameter: 'name' });
  return Object.freeze({ name, oneWay: Object.freeze([...oneWay]) });
}

/** The caller of a control method, as the serving side knows it. */
export interface ControlCaller {
  readonly apartment: number;
  readonly role: ControlRole;
}

type Fn = (...args: never[]) => unknown;

/** How one method is served: who may call it, how its arguments are checked, what it does. */
export interface ControlMethod<F extends Fn> {
  readonly roles: readonly ControlRole[];
  /** Turn untrusted arguments into typed ones, or throw InvalidArgumentError. */
  check(args: unknown[]): Parameters<F>;
  run(caller: ControlCaller, ...args: Parameters<F>): ReturnType<F> | Awaited<ReturnType<F>> | Promise<Awaited<ReturnType<F>>>;
}

/** The serving side of a service: one ControlMethod per member of its interface. */
export type ControlServiceImpl<Api> = { [K in keyof Api]: Api[K] extends Fn ? ControlMethod<Api[K]> : never };

/** The typed calling side of a service: calls answer with a promise, one-way methods return nothing. */
export type ControlClient<Api> = {
  [K in keyof Api]: Api[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/**
 * The control services an apartment serves. Each registered method becomes an own method named
 * `service.method` of `target`, the object served at CONTROL_OID, which checks the caller's role
 * and the arguments before running. `target` has no prototype, so a peer reaches those methods
 * and nothing else (not the router's own methods). Owner apartment only.
 */
export class ControlRouter {
  private readonly services = new Set<string>();
  /** What the apartment serves at CONTROL_OID: the wire methods, on a null prototype. */
  readonly target: Record<string, (...args: unknown[]) => unknown> = Object.create(null) as Record<string, (...args: unknown[]) => unknown>;

  constructor(private readonly self: number, private readonly roleOf: (apartment: number) => ControlRole) {}

  /** Serve `impl` under `service`'s name; a name is served once. */
  register<Api>(service: ControlServiceId<Api>, impl: ControlServiceImpl<Api>): void {
    if (this.services.has(service.name)) throw new ApartmentError('E_UNEXPECTED', `[control-service] service '${service.name}' is already served in apartment ${this.self}`);
    this.services.add(service.name);
    for (const [method, spec] of Object.entries(impl) as [string, ControlMethod<Fn>][]) {
      const wire = `${service.name}.${method}`;
      Object.defineProperty(this.target, wire, {
        value: (...args: unknown[]) => this.run(wire, spec, this.callerOf(wire, spec), args),
        enumerable: false,
      });
    }
  }

  /** Whether `service` is served here. */
  serves(service: ControlServiceId<unknown>): boolean {
    return this.services.has(service.name);
  }

  /** Run a method for this apartment itself (the main apartment asking its own runtime). */
  local(wire: string, args: unknown[]): unknown {
    const fn = Object.hasOwn(this.target, wire) ? this.target[wire] : undefined;
    if (typeof fn !== 'function') throw new ApartmentError('E_NOINTERFACE', `[control] no control method '${wire}' is served here`);
    this.localCall = true;
    try {
      return fn(...args);
    } finally {
      this.localCall = false;
    }
  }

  private localCall = false;

  private callerOf(wire: string, spec: ControlMethod<Fn>): ControlCaller {
    let apartment = this.self;
    if (!this.localCall) {
      const call = currentCall();
      if (!call) throw new InvalidArgumentError(`[control] '${wire}' is for apartments of this runtime only`);
      apartment = call.callerApartment;
    }
    const role = this.roleOf(apartment);
    if (!spec.roles.includes(role)) {
      throw new AccessDeniedError(`[control-denied] apartment ${apartment} (${role}) may not call '${wire}' in apartment ${this.self}; only ${spec.roles.join(', ')} may`);
    }
    return { apartment, role };
  }

  private run(wire: string, spec: ControlMethod<Fn>, caller: ControlCaller, args: unknown[]): unknown {
    let checked: unknown[];
    try {
      checked = spec.check(args) as unknown[];
    } catch (err) {
      if (err instanceof ApartmentError) throw err;
      throw new InvalidArgumentError(`[control-args] bad arguments for '${wire}': ${(err as Error)?.message ?? String(err)}`);
    }
    return (spec.run as (caller: ControlCaller, ...a: unknown[]) => unknown)(caller, ...checked);
  }
}

/** What a typed client sends through: a call with a reply, or a one-way notification. */
export interface ControlTransport {
  call(peer: number, wire: string, args: unknown[]): Promise<unknown>;
  notify(peer: number, wire: string, args: unknown[]): void;
}

/** A typed client for `service` in apartment `peer`. */
export function controlClient<Api>(transport: ControlTransport, peer: number, service: ControlServiceId<Api>): ControlClient<Api> {
  const oneWay = new Set<string>(service.oneWay);
  const methods = new Map<string, (...args: unknown[]) => unknown>();
  return new Proxy({} as ControlClient<Api>, {
    get(_target, key) {
      if (typeof key !== 'string' || key === 'then') return undefined;
      let fn = methods.get(key);
      if (!fn) {
        const wire = `${service.name}.${key}`;
        fn = oneWay.has(key)
          ? (...args: unknown[]) => { transport.notify(peer, wire, args); return Promise.resolve(undefined); }
          : (...args: unknown[]) => transport.call(peer, wire, args);
        methods.set(key, fn);
      }
      return fn;
    },
  });
}

/** Control calls and notifications to other apartments over `endpoint`'s channels. */
export function endpointTransport(endpoint: Endpoint): ControlTransport {
  return {
    call: (peer, wire, args) => endpoint.call(peer, CONTROL_OID, wire, args),
    notify: (peer, wire, args) => endpoint.notify(peer, wire, args),
  };
}

/** The wire name of one method of a service, for the few calls that need call options (a close's short deadline). */
export function wireName<Api>(service: ControlServiceId<Api>, method: keyof Api & string): string {
  return `${service.name}.${method}`;
}
