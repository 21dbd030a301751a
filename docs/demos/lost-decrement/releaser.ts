// Releases a shared count many times from its apartment (the lost-decrement demo's worker side).
import type { AtomicRefCount, NonAtomicCount } from 'apartment-runtime';

export class Releaser {
  static threading = 'apartment';
  releaseMany(count: AtomicRefCount | NonAtomicCount, times: number): void {
    for (let i = 0; i < times; i++) count.release();
  }
}
