// One of several apartments racing to fill a cache that all of them share: shared memory named
// 'tour-cache' holds [the published instance (0: none yet), instances built]. An instance is the
// id of the apartment that built it. Three ways to fill it:
//   once    : the runtime's once(): one caller builds, the others wait for and receive its value;
//   locked  : check and build while holding a named mutex, so the first holder builds and the
//             others, let in after it, find the cache full;
//   discard : look without a lock, build if empty, publish with compare-and-swap, and throw away
//             the instance that lost. The tour forces the worst case: every racer looks before
//             any publishes, so every racer builds.
import { currentApartment, named, once, traceMark } from 'apartment-runtime';
import { count, until } from './gate-counts.js';

export type CacheStrategy = 'once' | 'locked' | 'discard';

/** Gate slots: racers that opened the cache, racers that looked into it. */
const OPENED = 0;
const LOOKED = 1;

export class CacheUser {
  static threading = 'apartment';

  /** Get the shared instance the `strategy` way; answers which instance, and whether this racer built or discarded one. */
  async fetch(strategy: CacheStrategy, racers: number, gateMemory: SharedArrayBuffer): Promise<{ got: number; built: boolean; discarded: boolean }> {
    const gate = new Int32Array(gateMemory);
    const cache = await named.memory('tour-cache', 8);
    const cells = new Int32Array(cache.value);
    const me = currentApartment().id;
    let built = false;
    const build = (): number => {
      built = true;
      Atomics.add(cells, 1, 1);
      traceMark('built', me);
      return me;
    };
    try {
      // Every racer holds its handle before any starts, so none closes the cache under another.
      count(gate, OPENED);
      await until(gate, OPENED, racers);
      let got: number;
      let discarded = false;
      switch (strategy) {
        case 'once':
          got = await once('tour-cache-instance', build);
          break;
        case 'locked': {
          const mutex = await named.mutex('tour-cache-lock');
          try {
            using _held = await mutex.value.lock();
            if (Atomics.load(cells, 0) === 0) Atomics.store(cells, 0, build());
            got = Atomics.load(cells, 0);
          } finally {
            await mutex.close();
          }
          break;
        }
        case 'discard': {
          const seen = Atomics.load(cells, 0);
          traceMark('looked', seen);
          count(gate, LOOKED);
          await until(gate, LOOKED, racers);
          if (seen !== 0) {
            got = seen;
            break;
          }
          const mine = build();
          const before = Atomics.compareExchange(cells, 0, 0, mine);
          got = before === 0 ? mine : before;
          if (got !== mine) {
            discarded = true;
            traceMark('discarded', mine);
          }
          break;
        }
        default: {
          const unknown: never = strategy;
          throw new Error(`[tour] unknown cache strategy '${String(unknown)}'; use once, locked or discard`);
        }
      }
      traceMark('using', got);
      return { got, built, discarded };
    } finally {
      await cache.close();
    }
  }
}
