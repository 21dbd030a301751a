// Named shared objects from any apartment: `named.mutex(name)`, `named.memory(name, bytes, init)`,
// `named.counter(name)` create on first open and open afterwards, atomically across racing
// apartments (the main apartment decides); `once(name, factory)` builds a value exactly once.
import { mainService, sharesMemoryWithMain } from '../../apartments/main-call.js';
import { InvalidArgumentError, MarshalError } from '../../marshal/errors.js';
import { AtomicCounter } from './atomic-ref-count.js';
import { SharedMutex, type SharedMutexOptions } from './shared-mutex.js';
import type { NamedGrant, NamedKind } from './named-registry.js';
import { NamedService } from './named-service.js';

const MUTEX_BYTES = new SharedMutex().handle.sab.byteLength;

/** An open handle on a named object; close() (or dispose) releases it, once. */
export class NamedHandle<T> implements AsyncDisposable {
  private closed = false;
  constructor(readonly name: string, readonly value: T, readonly created: boolean) {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await mainService(NamedService).close(this.name);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Open `name` in the main apartment's registry, which hands out its memory: only over a link that shares memory. */
async function open(kind: NamedKind, name: string, bytes: number): Promise<NamedGrant> {
  if (!sharesMemoryWithMain()) {
    throw new MarshalError(`[no-shared-memory] named ${kind} '${name}' lives in memory shared with the main apartment, and this apartment's link to it shares none; use named objects in apartments whose links share memory`, { path: `named.${kind}('${name}')` });
  }
  return mainService(NamedService).open(kind, name, bytes);
}

/** Named shared objects, usable from every apartment and the free pool. */
export const named = {
  async mutex(name: string, options: Omit<SharedMutexOptions, 'name'> = {}): Promise<NamedHandle<SharedMutex>> {
    const g = await open('mutex', name, MUTEX_BYTES);
    return new NamedHandle(name, SharedMutex.fromHandle({ sab: g.sab, name, level: options.level }), g.create);
  },

  async counter(name: string): Promise<NamedHandle<AtomicCounter>> {
    const g = await open('counter', name, 4);
    return new NamedHandle(name, new AtomicCounter(g.sab), g.create);
  },

  /** Shared memory of `bytes`; the one creator runs `init` on it before anyone else can see it. */
  async memory(name: string, bytes: number, init?: (memory: SharedArrayBuffer) => void | Promise<void>): Promise<NamedHandle<SharedArrayBuffer>> {
    if (!Number.isInteger(bytes) || bytes <= 0) throw new InvalidArgumentError(`[named-size] bytes must be a whole number > 0; got ${String(bytes)}`, { parameter: 'bytes' });
    const g = await open('memory', name, bytes);
    if (g.create) {
      try {
        await init?.(g.sab);
      } catch (err) {
        // Never publish half-initialised memory: the next waiter becomes the creator instead.
        await mainService(NamedService).abandon(name);
        throw err;
      }
      await mainService(NamedService).publish(name);
    }
    return new NamedHandle(name, g.sab, g.create);
  },
};

/** Build a value once across all apartments; racing callers wait for and receive the same value. */
export async function once<T>(name: string, factory: () => T | Promise<T>): Promise<T> {
  for (;;) {
    const r = await mainService(NamedService).onceBegin(name);
    if (!r.build) return r.value as T;
    let value: T;
    try {
      value = await factory();
    } catch (err) {
      await mainService(NamedService).onceFailed(name);
      throw err;
    }
    await mainService(NamedService).onceDone(name, value);
    return value;
  }
}
