// The name of an object's class, for traces, refusals and deadlock reports. It is read from data
// properties only: a `constructor` or `name` getter, or a Proxy's trap, is code of the object's
// that could throw or run long wherever the runtime happens to need a label.
import { types } from 'node:util';

/** `target`'s class name ('function' for a function, 'object' when it cannot be read without running code). */
export function classNameOf(target: object): string {
  if (typeof target === 'function') return 'function';
  if (types.isProxy(target)) return 'object';
  const proto = Object.getPrototypeOf(target) as object | null;
  if (proto === null || types.isProxy(proto)) return 'object';
  const ctor = dataValue(proto, 'constructor');
  if (typeof ctor !== 'function' || types.isProxy(ctor)) return 'object';
  const name = dataValue(ctor, 'name');
  return typeof name === 'string' && name !== '' ? name : 'object';
}

/** An own data property's value; undefined for a getter or no such property. */
function dataValue(of: object, key: string): unknown {
  const d = Object.getOwnPropertyDescriptor(of, key);
  return d !== undefined && 'value' in d ? d.value : undefined;
}
