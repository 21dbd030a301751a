// What generated code and the runtime agree on for an interface compiled by apartment-proxygen
// (lib/cli/): its manifest (id, version hash, methods with the runtime checks of their parameters)
// and its stub table (method index → invoker). Types and pure helpers only.
import { InvalidArgumentError } from '../lib/errors.js';

/** What a runtime check of one value verifies. */
export type TypeCheck =
  | { readonly kind: 'number' | 'string' | 'boolean' | 'bigint' | 'undefined' | 'null' | 'unknown' | 'function' }
  | { readonly kind: 'literal'; readonly value: string | number | boolean }
  | { readonly kind: 'array'; readonly element: TypeCheck }
  | { readonly kind: 'object'; readonly props: readonly { readonly name: string; readonly type: TypeCheck; readonly optional: boolean }[] }
  | { readonly kind: 'union'; readonly of: readonly TypeCheck[] }
  | { readonly kind: 'remote'; readonly iface: string };

/** One parameter of a remote method. */
export interface ParamSpec {
  readonly name: string;
  readonly type: TypeCheck;
  readonly optional: boolean;
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
      return value !== null && (typeof value === 'object' || typeof value === 'function');
    default: {
      const unreachable: never = type;
      return unreachable;
    }
  }
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
  const required = method.params.filter((p) => !p.optional).length;
  if (args.length < required || args.length > method.params.length) {
    throw new InvalidArgumentError(`[arity] ${manifest.id}.${method.name} takes ${required === method.params.length ? required : `${required}–${method.params.length}`} argument(s), got ${args.length}`, { parameter: method.params[Math.min(args.length, method.params.length - 1)]?.name ?? '(none)' });
  }
  method.params.forEach((p, i) => {
    const v = args[i];
    if (v === undefined && p.optional) return;
    if (!matches(v, p.type)) {
      throw new InvalidArgumentError(`[bad-argument] ${manifest.id}.${method.name}: parameter '${p.name}' must be ${describeType(p.type)}, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`, { parameter: p.name });
    }
  });
}
