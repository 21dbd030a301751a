// What generated code and the runtime agree on for an interface compiled by apartment-proxygen
// (lib/cli/): its manifest (id, version hash, methods with the runtime checks of their parameters)
// and its stub table (method index → invoker). Types and pure helpers only.
import { InvalidArgumentError } from './errors.js';
import { isProxy } from './proxy.js';
import { findMethod } from './stub.js';

/** What a runtime check of one value verifies. */
export type TypeCheck =
  | { readonly kind: 'number' | 'string' | 'boolean' | 'bigint' | 'undefined' | 'null' | 'unknown' | 'function' }
  | { readonly kind: 'literal'; readonly value: string | number | boolean }
  | { readonly kind: 'array'; readonly element: TypeCheck }
  | { readonly kind: 'object'; readonly props: readonly { readonly name: string; readonly type: TypeCheck; readonly optional: boolean }[] }
  | { readonly kind: 'union'; readonly of: readonly TypeCheck[] }
  /** Another remote interface, passed by reference: a proxy, or a local object with these methods. */
  | { readonly kind: 'remote'; readonly iface: string; readonly methods: readonly string[] };

/** One parameter of a remote method. */
export interface ParamSpec {
  readonly name: string;
  /** For a rest parameter, the array type of all the arguments it collects. */
  readonly type: TypeCheck;
  readonly optional: boolean;
  /** A rest parameter (`...name: T[]`): the last one; takes any number of trailing arguments. */
  readonly rest?: true;
}

/** One method of a remote interface, at its index. */
export interface MethodSpec {
  readonly name: string;
  readonly params: readonly ParamSpec[];
}

/** A compiled interface: its id, a hash of its shape, and its methods in index order. */
export interface InterfaceManifest {
  readonly id: string;
  readonly version: string;
  readonly methods: readonly MethodSpec[];
}

/** Invokers by method index: each checks its arguments, then calls the method. */
export type StubTable<T> = readonly ((target: T, args: unknown[]) => unknown)[];

/** What a class declares as `static remoteInterface` to be dispatched through generated stubs. */
export interface RemoteInterface<T> {
  readonly manifest: InterfaceManifest;
  readonly stub: StubTable<T>;
}

function matches(value: unknown, type: TypeCheck): boolean {
  switch (type.kind) {
    case 'unknown':
      return true;
    case 'number':
    case 'string':
    case 'boolean':
    case 'bigint':
    case 'undefined':
    case 'function':
      return typeof value === type.kind;
    case 'null':
      return value === null;
    case 'literal':
      return value === type.value;
    case 'array':
      return Array.isArray(value) && value.every((v) => matches(v, type.element));
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
      const o = value as Record<string, unknown>;
      return type.props.every((p) => (o[p.name] === undefined ? p.optional : matches(o[p.name], p.type)));
    }
    case 'union':
      return type.of.some((t) => matches(value, t));
    case 'remote':
      return isRemoteCandidate(value, type.methods);
    default: {
      const unreachable: never = type;
      return unreachable;
    }
  }
}

/**
 * Whether `value` can stand for a remote interface: a proxy (or free-pool handle) of an object
 * elsewhere — its owner checks each call against that object's own interface — or a local object
 * offering every method of the interface as a method (never through a getter, which would run code
 * of the caller's object at the boundary). A plain data object passed by value has no methods and
 * is refused.
 */
function isRemoteCandidate(value: unknown, methods: readonly string[]): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  if (isProxy(value)) return true;
  return methods.every((m) => findMethod(value, m) !== undefined);
}

/** Describe a check for error messages. */
export function describeType(type: TypeCheck): string {
  switch (type.kind) {
    case 'literal':
      return JSON.stringify(type.value);
    case 'array':
      return `${describeType(type.element)}[]`;
    case 'object':
      return `{ ${type.props.map((p) => `${p.name}${p.optional ? '?' : ''}: ${describeType(p.type)}`).join('; ')} }`;
    case 'union':
      return type.of.map(describeType).join(' | ');
    case 'remote':
      return `remote ${type.iface}`;
    default:
      return type.kind;
  }
}

/** Check a call's arguments against method `index` of `manifest`; throws InvalidArgumentError naming the parameter. */
export function checkArguments(manifest: InterfaceManifest, index: number, args: readonly unknown[]): void {
  const method = manifest.methods[index];
  if (!method) throw new InvalidArgumentError(`[bad-method] ${manifest.id} has no method #${index}`, { parameter: 'method' });
  const rest = method.params.at(-1)?.rest ? method.params.at(-1) : undefined;
  const fixed = rest ? method.params.slice(0, -1) : method.params;
  const required = fixed.filter((p) => !p.optional).length;
  if (args.length < required || (!rest && args.length > fixed.length)) {
    const takes = rest ? `at least ${required}` : required === fixed.length ? `${required}` : `${required}–${fixed.length}`;
    throw new InvalidArgumentError(`[arity] ${manifest.id}.${method.name} takes ${takes} argument(s), got ${args.length}`, { parameter: method.params[Math.min(args.length, method.params.length - 1)]?.name ?? '(none)' });
  }
  fixed.forEach((p, i) => {
    const v = args[i];
    if (v === undefined && p.optional) return;
    if (!matches(v, p.type)) throw badArgument(manifest, method, p, v);
  });
  if (rest && args.length > fixed.length) {
    const extra = args.slice(fixed.length);
    if (!matches(extra, rest.type)) throw badArgument(manifest, method, rest, extra.find((v) => rest.type.kind !== 'array' || !matches(v, rest.type.element)));
  }
}

function badArgument(manifest: InterfaceManifest, method: MethodSpec, p: ParamSpec, v: unknown): InvalidArgumentError {
  const what = p.rest && p.type.kind === 'array' ? `each of '...${p.name}' must be ${describeType(p.type.element)}` : `parameter '${p.name}' must be ${describeType(p.type)}`;
  const hint = p.type.kind === 'remote' ? `; pass a proxy of a ${p.type.iface}, or send your own object with byRef() (it needs the methods ${p.type.methods.join(', ')})` : '';
  return new InvalidArgumentError(`[bad-argument] ${manifest.id}.${method.name}: ${what}, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}${hint}`, { parameter: p.name });
}
