// Value types: objects that travel by value under a name and are rebuilt by a function registered
// in every thread that may receive them (shared-memory handles: a mutex, a counter, a segment).
// Per thread; registration happens when the defining module loads.

const rebuilders = new Map<string, (payload: unknown) => unknown>();

/** Register how values of type `key` are rebuilt in this thread. */
export function registerValueType(key: string, rebuild: (payload: unknown) => unknown): void {
  rebuilders.set(key, rebuild);
}

/** The rebuilder for `key` in this thread, if any. */
export function valueType(key: string): ((payload: unknown) => unknown) | undefined {
  return rebuilders.get(key);
}
