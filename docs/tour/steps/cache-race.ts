// Racing creators of a cache: several apartments want the one shared instance at the same moment.
// once() and a lock held across check-and-build both build it exactly once; create-then-discard
// builds without a lock and throws away the losers' instances: correct in the end (everyone uses
// the published one) but it pays for every racer's build.
import type { Remote } from 'apartment-runtime';
import type { CacheStrategy, CacheUser } from '../classes/cache-user.js';
import { count, type TourStep } from '../tour-step.js';
import { finishTour, scenarioStart, startTour } from '../tour-runtime.js';

export const cacheRace: TourStep = {
  name: 'cache-race',
  title: 'Racing creators of a cache: once vs lock-held vs create-then-discard',
  options: {
    strategy: { describe: "'once': the runtime's once(); 'locked': check and build under a named mutex; 'discard': build unlocked, publish by compare-and-swap, discard the losers", default: 'once', choices: ['once', 'locked', 'discard'] },
    racers: { describe: 'apartments racing for the cache', default: '3' },
  },
  async run(options) {
    const strategy = options.strategy as CacheStrategy;
    const racers = count(options, 'racers');
    const rt = await startTour();
    const users: Remote<CacheUser>[] = [];
    for (let i = 1; i <= racers; i++) users.push(await (await rt.createApartment({ name: `cache-user-${i}` })).createObject<CacheUser>('CacheUser'));
    const from = scenarioStart(rt);
    const gate = new SharedArrayBuffer(8);
    const results = await Promise.all(users.map((u) => u.fetch(strategy, racers, gate)));
    const trace = await finishTour(rt, from);
    const built = results.filter((r) => r.built).length;
    const discarded = results.filter((r) => r.discarded).length;
    const used = [...new Set(results.map((r) => r.got))];
    return {
      trace,
      facts: { strategy, racers, built, discarded, used },
      lesson: `${racers} apartment${racers === 1 ? '' : 's'} raced for one cached instance: ${built} built, ${discarded} discarded, and all used instance ${used.join(', ')}. ${strategy === 'discard'
        ? 'Create-then-discard is correct in the end, but every racer that looked before the first publish paid for a build: cheap builds only.'
        : strategy === 'once'
          ? 'once() let one caller build while the others waited for its value.'
          : 'Holding the named mutex across check-and-build let the first holder build; the others, let in after it, found the cache full.'}`,
    };
  },
};
