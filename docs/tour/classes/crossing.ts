// Two kinds of wrong order. Crossing: two objects that, once both are running, call each other
// (a deadlock cycle the runtime refuses). Ledger: takes two ranked locks highest first (a lock
// hierarchy violation the runtime refuses the first time it happens).
import { traceMark, type Remote, type SharedMutex } from 'apartment-runtime';

export class Crossing {
  static threading = 'apartment';
  /** Say we started, wait until the other one has too, then call it. */
  async cross(other: Remote<Crossing>, started: SharedArrayBuffer): Promise<string> {
    const flag = new Int32Array(started);
    Atomics.add(flag, 0, 1);
    Atomics.notify(flag, 0);
    for (let seen = Atomics.load(flag, 0); seen < 2; seen = Atomics.load(flag, 0)) {
      const wait = Atomics.waitAsync(flag, 0, seen);
      if (wait.async) await wait.value;
    }
    return other.touch();
  }
  touch(): string {
    return 'touched';
  }
}

export class Ledger {
  static threading = 'apartment';
  /** Take `first`, then `second`; answers the error's name if the second is refused. */
  async takeBoth(first: SharedMutex, second: SharedMutex): Promise<string> {
    const outer = await first.lock();
    traceMark(`holding ${first.name}`);
    try {
      const inner = await second.lock();
      inner.unlock();
      return 'both taken';
    } catch (err) {
      return (err as Error).name;
    } finally {
      outer.unlock();
    }
  }
}
