// A named mutex and named shared memory shared by several apartments, as Win32 programs share a
// named mutex and a file mapping: each apartment opens them by name (the first creates them), and
// adds 1 to the shared total each round with a plain read, then write. Without the mutex every
// round's sharers all read the same value and all but one update are lost; with it, the sharers
// take turns and every update lands.
import type { Remote } from 'apartment-runtime';
import type { Sharer } from '../classes/sharer.js';
import { count, type TourStep } from '../tour-step.js';
import { finishTour, scenarioStart, startTour } from '../tour-runtime.js';

export const namedSync: TourStep = {
  name: 'named-sync',
  title: 'A named mutex guarding named shared memory across apartments',
  options: {
    mutex: { describe: "'yes': each read-then-write holds the named mutex; 'no': it does not", default: 'yes', choices: ['yes', 'no'] },
    sharers: { describe: 'apartments sharing the total', default: '3' },
    rounds: { describe: 'additions per apartment', default: '2' },
  },
  async run(options) {
    const useMutex = options.mutex === 'yes';
    const sharerCount = count(options, 'sharers');
    const rounds = count(options, 'rounds');
    const rt = await startTour();
    const sharers: Remote<Sharer>[] = [];
    for (let i = 1; i <= sharerCount; i++) sharers.push(await (await rt.createApartment({ name: `sharer-${i}` })).createObject<Sharer>('Sharer'));
    const from = scenarioStart(rt);
    // They open at once: exactly one creates the total, the others open the one it made.
    const created = (await Promise.all(sharers.map((s) => s.open()))).filter((c) => c).length;
    const gate = new SharedArrayBuffer(12);
    await Promise.all(sharers.map((s) => s.add(rounds, sharerCount, gate, useMutex)));
    const total = await sharers[0]!.total();
    await Promise.all(sharers.map((s) => s.close()));
    const releasedByName = !rt.isNamedOpen('tour-total') && !rt.isNamedOpen('tour-total-lock');
    const trace = await finishTour(rt, from);
    const expected = sharerCount * rounds;
    return {
      trace,
      facts: { useMutex, sharers: sharerCount, rounds, created, total, expected, lost: expected - total, releasedByName },
      lesson: `${sharerCount} apartment${sharerCount === 1 ? '' : 's'} opened 'tour-total' by name (${created} created it) and added 1 to it ${rounds} time${rounds === 1 ? '' : 's'} each: ${expected} additions made ${total}. ${useMutex
        ? "Each read-then-write held the named mutex 'tour-total-lock', so the sharers took turns (L read write U on one lane at a time) and no update was lost."
        : sharerCount === 1
          ? 'With one sharer nothing can come between its read and its write, mutex or not: run with --sharers=3.'
          : `Without the mutex every round's sharers read the same value before any wrote it, so ${expected - total} updates were lost. Run with --mutex=yes.`} Once the last one closed its handles, both named objects were released.`,
    };
  },
};
