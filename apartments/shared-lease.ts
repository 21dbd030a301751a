// A lease on a shared resource, as the apartment that took it holds it: the value (a proxy when the
// resource lives elsewhere) and the one way to give it back. Owner apartment only.
import { DisconnectedError } from '../marshal/errors.js';

/** One apartment's hold on a shared resource; release() (or dispose) gives it back, once. */
export class SharedLease<T> implements Disposable {
  private released = false;
  constructor(
    private readonly resource: T,
    private readonly giveBack: () => Promise<void>,
  ) {}

  /** The resource (a proxy when it lives in another apartment); unusable after release. */
  get value(): T {
    if (this.released) throw new DisconnectedError('[shared-released] this lease was released; acquire the resource again', { code: 'CO_E_OBJNOTCONNECTED' });
    return this.resource;
  }

  release(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.released = true;
    return this.giveBack();
  }

  [Symbol.dispose](): void {
    // `using` cannot wait or hear a failure, and a rejection nobody handles ends the thread. Giving
    // back fails only when the resource's apartment or the link to it is gone, and the lease with it.
    this.release().catch(() => undefined);
  }
}
