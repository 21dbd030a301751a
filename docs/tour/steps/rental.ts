// Rental threading: a rental object lives in one apartment at a time, the one holding its lease,
// and is called there directly. Borrowers in several apartments queue for the lease; the object
// moves, its state carried over, only between calls: a borrower that gives it back in the middle
// of a call waits for that call to end before the next borrower gets it.
import { disposeRental, lease, type Remote } from 'apartment-runtime';
import type { Borrowed, Borrower, Notebook } from '../classes/notebook.js';
import { count, type TourStep } from '../tour-step.js';
import { finishTour, scenarioStart, startTour } from '../tour-runtime.js';

export const rentalStep: TourStep = {
  name: 'rental',
  title: 'Rental: one object moving between lanes, only between calls',
  options: {
    lessees: { describe: 'apartments that lease the Notebook in turn', default: '3' },
    writes: { describe: 'lines each lessee writes while it holds the lease', default: '2' },
  },
  async run(options) {
    const lessees = count(options, 'lessees');
    const writes = count(options, 'writes');
    const rt = await startTour();
    const borrowers: Remote<Borrower>[] = [];
    for (let i = 1; i <= lessees; i++) borrowers.push(await (await rt.createApartment({ name: `lessee-${i}` })).createObject<Borrower>('Borrower'));
    // The handle is registered in the main apartment; it is all a borrower is handed.
    const handle = await rt.createObject('Notebook');
    const from = scenarioStart(rt);
    const borrowed: Borrowed[] = await Promise.all(borrowers.map((b) => b.borrow(handle, writes)));
    // The host takes the last lease to read what the Notebook carried through every move.
    const last = await lease<Notebook>(handle);
    const lines = last.value.lines.length;
    await last.release();
    await disposeRental(handle);
    const trace = await finishTour(rt, from);
    const turns = [...borrowed].sort((a, b) => a.found - b.found);
    const lanes = new Set(trace.events.filter((e) => e.kind === 'Mark' && e.name === 'write begin').map((e) => e.apartment)).size;
    return {
      trace,
      facts: { lessees, writes, lines, lanes, turns },
      lesson: `One Notebook was written on ${lanes} lane${lanes === 1 ? '' : 's'}: ${lessees} apartment${lessees === 1 ? '' : 's'} leased it in turn (${turns.map((t) => `apartment ${t.apartment} found ${t.found} line${t.found === 1 ? '' : 's'}`).join(', ')}) and it ended with ${lines} lines, its state carried along each move. Each lessee gave it back during its last write: the release waited for that call to end, so no call ran on two lanes or beside another.`,
    };
  },
};
