// The name of an object's class, for traces, refusals and deadlock reports. It is read from data
// properties only: a `constructor` or `name` getter, or a Proxy's trap, is code of the object's
// that could throw or run long wherever the runtime happens to need a label.
import { isProxy } from 'node:util/types';

/** `target`'s class name ('function' for a function, 'object' when it cannot be read without running code). */
export function classNameOf(target: object): string {
  if (typeof target === 'function') return 'function';
  if (isProxy(target)) return 'object';
  // The nearest prototype that says its constructor, as reading `constructor` would find it.
  let proto = Object.getPrototypeOf(target) as object | null;
  for (let hops = 0; proto !== null && !isProxy(proto) && hops < MAX_HOPS; hops++) {
    const d = Object.getOwnPropertyDescriptor(proto, 'constructor');
    if (d !== undefined) {
      const ctor: unknown = 'value' in d ? d.value : undefined;
      if (typeof ctor !== 'function' || isProxy(ctor)) return 'object';
      const name = dataValue(ctor, 'name');
      return typeof name === 'string' && name !== '' ? name : 'object';
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return 'object';
}

/** How far up a prototype chain a name is looked for. */
const MAX_HOPS = 32;

/** An own data property's value; undefined for a getter or no such property. */
function dataValue(of: object, key: string): unknown {
  const d = Object.getOwnPropertyDescriptor(of, key);
  return d !== undefined && 'value' in d ? d.value : undefined;
}
