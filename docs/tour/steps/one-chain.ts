// One call chain at a time per object: a method that awaits in the middle is safe under the
// default (turn-based) admission, because no other chain starts on the object meanwhile; with
// --reentrant=yes other chains run in its gaps, and a read-then-write total loses updates.
import type { Remote } from 'apartment-runtime';
import type { Pauser, Tally } from '../classes/tally.js';
import { count, type TourStep } from '../tour-step.js';
import { finishTour, scenarioStart, startTour } from '../tour-runtime.js';

export const oneChain: TourStep = {
  name: 'one-chain',
  title: 'One call chain at a time per object, or --reentrant interleaving',
  options: {
    reentrant: { describe: 'let other chains run while add() awaits', default: 'no', choices: ['no', 'yes'] },
    calls: { describe: 'how many add(1) calls the host makes at once', default: '4' },
  },
  async run(options) {
    const calls = count(options, 'calls');
    const reentrant = options.reentrant === 'yes';
    const rt = await startTour();
    const tallyFlat = await rt.createApartment({ name: 'tally', reentrancy: reentrant ? 'reentrant' : 'turn-based' });
    const tally = await tallyFlat.createObject<Tally>('Tally');
    const pauser = await (await rt.createApartment({ name: 'elsewhere' })).createObject<Pauser>('Pauser');
    const from = scenarioStart(rt);
    // Every host call starts its own chain: they all arrive at once.
    await Promise.all(Array.from({ length: calls }, () => tally.add(1, pauser as Remote<Pauser>)));
    const total = await tally.value();
    const trace = await finishTour(rt, from);
    return {
      trace,
      facts: { reentrant, calls, total },
      lesson: reentrant
        ? `Reentrant: while add() awaited, the other chains started and read the same total; ${calls} additions left it at ${total}. Every read came before the writes that should have followed it.`
        : `Turn-based: each add() ran to its end before the next chain started, though each awaited a call elsewhere; ${calls} additions made ${total}. Run with --reentrant=yes to see them interleave.`,
    };
  },
};
