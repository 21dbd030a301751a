// The callee side of a call: find the member a caller may invoke and call it on the real object.
// Only methods are reachable: never `constructor`, `__proto__`, Object.prototype members, symbols,
// or accessors (a getter could run arbitrary code on a name the object never offered).
import { NoInterfaceError } from './errors.js';
import type { RemoteInterface } from './interface-manifest.js';

type Method = (...args: unknown[]) => unknown;

/** Per prototype: method name → the function, or null when the name is not callable. */
const memberCache = new WeakMap<object, Map<string, Method | null>>();

const FORBIDDEN = new Set(['constructor', '__proto__', 'prototype']);

function lookupOnPrototypes(proto: object | null, name: string): Method | null {
  for (let p = proto; p !== null && p !== Object.prototype && p !== Function.prototype; p = Object.getPrototypeOf(p) as object | null) {
    const desc = Object.getOwnPropertyDescriptor(p, name);
    if (!desc) continue;
    return typeof desc.value === 'function' ? (desc.value as Method) : null;
  }
  return null;
}

/** The method `name` of `target` (an own or inherited data property holding a function), or undefined. */
export function findMethod(target: object, name: string): Method | undefined {
  if (FORBIDDEN.has(name)) return undefined;
  if (Object.hasOwn(target, name)) {
    const desc = Object.getOwnPropertyDescriptor(target, name)!;
    return typeof desc.value === 'function' ? (desc.value as Method) : undefined;
  }
  const proto = Object.getPrototypeOf(target) as object | null;
  if (proto === null) return undefined;
  let perProto = memberCache.get(proto);
  if (!perProto) memberCache.set(proto, (perProto = new Map()));
  let fn = perProto.get(name);
  if (fn === undefined) {
    fn = lookupOnPrototypes(proto, name);
    perProto.set(name, fn);
  }
  return fn ?? undefined;
}

/** Resolve `name` on `target` to a callable method, or throw NoInterfaceError. */
export function resolveMethod(target: object, name: string): Method {
  const fn = findMethod(target, name);
  if (!fn) throw noInterface(target, name);
  return fn;
}

/** The generated interface a class declares (static remoteInterface), if any. */
function declaredInterface(target: object): RemoteInterface<object> | undefined {
  const ctor = (target as { constructor?: unknown }).constructor;
  return typeof ctor === 'function' ? (ctor as { remoteInterface?: RemoteInterface<object> }).remoteInterface : undefined;
}

/** A method's name from its index in the target's declared interface (for admission and messages). */
export function methodName(target: object, method: string | number): string {
  if (typeof method === 'string') return method;
  return declaredInterface(target)?.manifest.methods[method]?.name ?? `#${method}`;
}

/**
 * Invoke member `method` of `target`: by index through the generated stub of the interface its class
 * declares, or by name (checked against that interface when there is one); '' invokes a function
 * reference itself.
 */
export function invokeMember(target: object, method: string | number, args: unknown[]): unknown {
  const iface = declaredInterface(target);
  if (typeof method === 'number') {
    const invoker = iface?.stub[method];
    if (!invoker) throw noInterface(target, `#${method}`);
    return invoker(target, args);
  }
  if (method === '') {
    if (typeof target !== 'function') throw noInterface(target, '(call)');
    return (target as Method)(...args);
  }
  if (iface) {
    const index = iface.manifest.methods.findIndex((m) => m.name === method);
    if (index < 0) throw noInterface(target, method);
    return iface.stub[index]!(target, args);
  }
  return resolveMethod(target, method).apply(target, args);
}

function noInterface(target: object, name: string): NoInterfaceError {
  const what = typeof target === 'function' ? 'function' : (Object.getPrototypeOf(target) as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'object';
  return new NoInterfaceError(`[no-interface] ${what} has no callable method '${name}'; check the method name, or expose it as a method (properties and accessors are not remotable)`);
}
