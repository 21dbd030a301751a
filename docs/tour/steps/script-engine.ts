// The script engine's contract (Active Scripting's): free-threaded until a site is set, then bound
// to the apartment that set it. Before, another apartment's call is served; after, it fails.
import { byRef, type Remote, type ScriptEngine } from 'apartment-runtime';
import type { Neighbour } from '../classes/neighbour.js';
import type { TourStep } from '../tour-step.js';
import { finishTour, scenarioStart, startTour } from '../tour-runtime.js';

export const scriptEngine: TourStep = {
  name: 'script-engine',
  title: 'The script engine: free until a site is set, then bound',
  options: { site: { describe: "'set' binds the engine to the host before the second try; 'none' leaves it free", default: 'set', choices: ['set', 'none'] } },
  async run(options) {
    const rt = await startTour();
    const engine = await (await rt.createApartment({ name: 'scripts' })).createObject<ScriptEngine>('ScriptEngine');
    const neighbour = await (await rt.createApartment({ name: 'neighbour' })).createObject<Neighbour>('Neighbour');
    const from = scenarioStart(rt);
    const before = await neighbour.tryToUse(engine as unknown as Remote<never>);
    if (options.site === 'set') await (engine as unknown as { setSite(site: unknown): Promise<void> }).setSite(byRef({ host: 'tour' }));
    const after = await neighbour.tryToUse(engine as unknown as Remote<never>);
    const trace = await finishTour(rt, from);
    return {
      trace,
      facts: { before, after, site: options.site },
      lesson: `Before a site was set the neighbour apartment's call was ${before}. ${options.site === 'set' ? `The host set the site, binding the engine to the host's apartment; the same call from the neighbour then failed with ${after}: the engine refused it, the red mark on its lane.` : `No site was set, so the engine stayed free: the second call was ${after} too.`}`,
    };
  },
};
