// The lost decrement: N apartments release one shared count. A plain read-then-write loses
// releases when threads interleave between the read and the write; an atomic subtraction does not.
import type { Remote } from 'apartment-runtime';
import type { Racer } from '../classes/racer.js';
import { count, type TourStep } from '../tour-step.js';
import { finishTour, scenarioStart, startTour } from '../tour-runtime.js';

export const lostDecrement: TourStep = {
  name: 'lost-decrement',
  title: 'The lost decrement: every read and write of a shared count',
  options: {
    schedule: { describe: "'forced': every racer reads before any writes, each round; 'chance': as the threads run; 'atomic': Atomics.sub", default: 'forced', choices: ['forced', 'chance', 'atomic'] },
    racers: { describe: 'apartments releasing the count', default: '4' },
    rounds: { describe: 'releases per racer', default: '3' },
  },
  async run(options) {
    const racers = count(options, 'racers');
    const rounds = count(options, 'rounds');
    const schedule = options.schedule as 'forced' | 'chance' | 'atomic';
    const rt = await startTour();
    const cells = new SharedArrayBuffer(4);
    const barrier = new SharedArrayBuffer(8);
    const start = racers * rounds;
    new Int32Array(cells)[0] = start;
    const all: Remote<Racer>[] = [];
    for (let i = 1; i <= racers; i++) all.push(await (await rt.createApartment({ name: `racer-${i}` })).createObject<Racer>('Racer'));
    const from = scenarioStart(rt);
    await Promise.all(all.map((r) => r.race(cells, barrier, racers, rounds, schedule)));
    const end = new Int32Array(cells)[0]!;
    const trace = await finishTour(rt, from);
    return {
      trace,
      facts: { schedule, racers, rounds, start, end, lost: end },
      lesson: schedule === 'atomic'
        ? `Atomic: ${start} releases took the count from ${start} to ${end}; each subtraction read and wrote in one indivisible step.`
        : `${schedule === 'forced' ? 'Forced' : 'Chance'}: ${start} releases took the count from ${start} to ${end}, so ${end} releases were lost. ${schedule === 'forced' ? `Each round all ${racers} racers read the same value before any wrote it minus one.` : 'Run it again: the result depends on how the threads happened to interleave.'}`,
    };
  },
};
