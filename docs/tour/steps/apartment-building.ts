// The apartment building: each apartment is a flat with one resident thread; an object lives in
// the flat it was made in, and every call to it, from anywhere, runs there.
import type { Remote } from 'apartment-runtime';
import type { Room } from '../classes/room.js';
import { count, type TourStep } from '../tour-step.js';
import { finishTour, scenarioStart, startTour } from '../tour-runtime.js';

export const apartmentBuilding: TourStep = {
  name: 'apartment-building',
  title: 'The apartment building: objects run only on their home lane',
  options: { flats: { describe: 'how many apartments (flats)', default: '3' } },
  async run(options) {
    const flats = count(options, 'flats');
    const rt = await startTour();
    const names = ['ui', 'kitchen', 'garage', 'attic', 'cellar', 'study'];
    const homes: number[] = [];
    const rooms: Remote<Room>[] = [];
    for (let i = 0; i < flats; i++) {
      const apt = await rt.createApartment({ name: names[i % names.length]! + (i >= names.length ? `-${i}` : '') });
      homes.push(apt.id);
      rooms.push(await apt.createObject<Room>('Room'));
    }
    const from = scenarioStart(rt);
    // One chain of calls walks from each room to the next; each call says where it ran.
    const visits: number[][] = [];
    for (let i = 0; i < flats; i++) visits.push(await rooms[i]!.visit(rooms[(i + 1) % flats]!));
    const ranAtHome = visits.every((ran, i) => ran[0] === homes[i] && ran[1] === homes[(i + 1) % flats]);
    const trace = await finishTour(rt, from);
    return {
      trace,
      facts: { homes, visits, ranAtHome },
      lesson: `Each of the ${flats} rooms was called from the host and from the room before it, and every call ran on the room's own lane (${ranAtHome ? 'always' : 'NOT always'}). A call to another flat is a message to its thread: the arrows, never a thread walking in.`,
    };
  },
};
