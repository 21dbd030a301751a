// Where a new object lives depends on how it is created. `new` inside an apartment makes a
// dependent object right there. createInstance (COM's CoCreateInstance) follows the class's
// contract: an `apartment` class joins its creator, a `single` class goes to the main apartment.
// createObject (Visual Basic's CreateObject, external creation) hands the choice to the runtime's
// assignment policy, which picks a worker apartment; a `single` class still goes to the main one.
import type { Remote } from 'apartment-runtime';
import type { CreationWay, Maker, Part } from '../classes/workshop.js';
import type { TourStep } from '../tour-step.js';
import { finishTour, scenarioStart, startTour } from '../tour-runtime.js';

/** The ways the Maker creates a part, in order: createObject twice, to show the policy's choice twice. */
export const WAYS: readonly CreationWay[] = ['new', 'createInstance', 'createObject', 'createObject'];

export const creation: TourStep = {
  name: 'creation',
  title: '`new` vs createInstance vs external creation: where each object runs',
  options: {
    contract: { describe: "the part's threading contract: 'apartment' (any apartment) or 'single' (the main apartment)", default: 'apartment', choices: ['apartment', 'single'] },
    assignment: { describe: 'the runtime policy external creation goes through', default: 'single-thread', choices: ['single-thread', 'thread-per-object'] },
  },
  async run(options) {
    const className = options.contract === 'single' ? 'MainPart' : 'Part';
    const rt = await startTour({ assignment: options.assignment as 'single-thread' | 'thread-per-object' });
    const makerFlat = await rt.createApartment({ name: 'maker' });
    const maker = await makerFlat.createObject<Maker>('Maker');
    const from = scenarioStart(rt);
    const placed: { way: CreationWay; where: number }[] = [];
    for (const way of WAYS) {
      // The Maker creates the part inside its own apartment; the host then calls it, on its lane.
      const part = (await maker.make(way, className)) as unknown as Remote<Part>;
      placed.push({ way, where: await part.where() });
    }
    const trace = await finishTour(rt, from);
    const laneOf = (id: number): string => trace.lanes.find((l) => l.apartment === id)?.name.split(' ·')[0] ?? `apartment ${id}`;
    const said = placed.map((p) => `${p.way} → ${laneOf(p.where)}`).join(', ');
    const single = className === 'MainPart';
    return {
      trace,
      facts: { className, assignment: options.assignment, maker: makerFlat.id, placed },
      lesson: `The Maker (in ${laneOf(makerFlat.id)}) made a part of contract '${single ? 'single' : 'apartment'}' four ways: ${said}. ${single
        ? "Only new kept it in the Maker's apartment; the contract sends both createInstance and createObject of a single class to the main apartment, whatever the policy. The host holds those three there as the objects themselves, so their calls need no message: only their + marks show on the main lane."
        : `new and createInstance kept it with its creator; createObject went through the ${options.assignment} policy to ${options.assignment === 'single-thread' ? "the one shared worker apartment, both times" : 'a new apartment each time'}.`}`,
    };
  },
};
