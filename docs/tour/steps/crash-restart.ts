// A crashing plugin: an exception nobody catches takes its apartment down. Calls in flight and
// later calls to its objects fail with a clear error; the host lives on, and with restart
// 'on-fault' the runtime starts a replacement apartment (the objects are not resurrected). With
// --where=process the plugin runs in a child process and crashes as a broken native addon does, with a
// segmentation fault, which takes down only that process.
import { once } from 'node:events';
import type { Apartment } from 'apartment-runtime';
import type { Plugin } from '../classes/plugin.js';
import type { TourStep } from '../tour-step.js';
import { finishTour, scenarioStart, startTour } from '../tour-runtime.js';

export const crashRestart: TourStep = {
  name: 'crash-restart',
  title: 'A crashing plugin, and its restart',
  options: {
    restart: { describe: "'on-fault' starts a replacement, 'never' does not", default: 'on-fault', choices: ['on-fault', 'never'] },
    where: { describe: "'process' runs the plugin in a child process, where it crashes with SIGSEGV as a broken native addon does", default: 'thread', choices: ['thread', 'process'] },
  },
  async run(options) {
    const restart = options.restart as 'on-fault' | 'never';
    const inProcess = options.where === 'process';
    const rt = await startTour();
    const flat = await rt.createApartment({ name: 'plugin', restart, ...(inProcess ? { process: 'plugin-server' } : {}) });
    const plugin = await flat.createObject<Plugin>('Plugin');
    // Beside a plugin in a process, one in a worker thread of the host: it must not notice the crash.
    const bystander = inProcess ? await (await rt.createApartment({ name: 'bystander' })).createObject<Plugin>('Plugin') : undefined;
    const from = scenarioStart(rt);
    const before = await plugin.work(21);
    await bystander?.work(5);
    const faulted = once(rt, 'apartment-faulted');
    const restarted = restart === 'on-fault' ? once(rt, 'apartment-restarted') : undefined;
    // Idle apartments do not keep the process alive, so the host waits for the fault with a timer.
    const keepAlive = setInterval(() => {}, 1_000);
    // crash() may answer before the thread dies, or die first: either way the fault follows.
    await (inProcess ? plugin.crashNatively() : plugin.crash()).catch(() => undefined);
    const [, fault] = (await faulted) as [Apartment, Error];
    const afterCrash = await plugin.work(1).then(() => 'answered', (err: Error) => err.name);
    const bystanderAfter = await bystander?.work(5);
    let replacementAnswer: number | undefined;
    if (restarted) {
      const [, replacement] = (await restarted) as [Apartment, Apartment];
      replacementAnswer = await (await replacement.createObject<Plugin>('Plugin')).work(21);
    }
    clearInterval(keepAlive);
    const trace = await finishTour(rt, from);
    return {
      trace,
      facts: { before, afterCrash, replacementAnswer, restart, inProcess, fault: fault.message, bystanderAfter },
      lesson: `The plugin answered ${before}, then crashed its own ${inProcess ? 'process with a segmentation fault' : 'thread'}. The next call to its object failed with ${afterCrash}; the host kept running${bystanderAfter !== undefined ? `, and a plugin in one of its worker threads answered ${bystanderAfter} after the crash` : ''}.${replacementAnswer !== undefined ? ` A replacement apartment started and a new plugin there answered ${replacementAnswer}.` : ' With --restart=never nothing replaced it.'}`,
    };
  },
};
