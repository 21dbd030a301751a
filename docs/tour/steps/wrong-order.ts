// Two kinds of wrong order, both refused the first time they happen instead of hanging: a lock
// hierarchy violation (a lower-ranked lock taken while a higher one is held) and a deadlock
// cycle (two objects, each in a call, calling each other).
import { SharedMutex, type Remote } from 'apartment-runtime';
import type { Crossing, Ledger } from '../classes/crossing.js';
import type { TourStep } from '../tour-step.js';
import { finishTour, scenarioStart, startTour } from '../tour-runtime.js';

export const wrongOrder: TourStep = {
  name: 'wrong-order',
  title: 'A lock-hierarchy violation and a deadlock cycle',
  options: { locks: { describe: "'descending' takes the higher-ranked lock first (refused); 'ascending' is the right order", default: 'descending', choices: ['descending', 'ascending'] } },
  async run(options) {
    const rt = await startTour();
    const accounts = new SharedMutex({ name: 'accounts', level: 1 });
    const audit = new SharedMutex({ name: 'audit', level: 2 });
    const ledger = await (await rt.createApartment({ name: 'ledger' })).createObject<Ledger>('Ledger');
    const left = await (await rt.createApartment({ name: 'left' })).createObject<Crossing>('Crossing');
    const right = await (await rt.createApartment({ name: 'right' })).createObject<Crossing>('Crossing');
    const from = scenarioStart(rt);
    const locks = options.locks === 'ascending' ? await ledger.takeBoth(accounts, audit) : await ledger.takeBoth(audit, accounts);
    const started = new SharedArrayBuffer(4);
    const results = await Promise.allSettled([left.cross(right as Remote<Crossing>, started), right.cross(left as Remote<Crossing>, started)]);
    const outcomes = results.map((r) => (r.status === 'fulfilled' ? String(r.value) : (r.reason as Error).name));
    const trace = await finishTour(rt, from);
    return {
      trace,
      facts: { locks, outcomes },
      lesson: `Locks: taking them ${options.locks} gave '${locks}'. Deadlock: left and right each called the other while in a call; the runtime refused one call of the cycle (${outcomes.join(' / ')}) instead of letting both wait forever.`,
    };
  },
};
