// The thread-assignment document's round-robin pool: five threads, four clients, classes A, B and
// C. Objects go to the next thread in turn whatever their client, so objects of one client land
// on different threads and objects of different clients share one; after clients 2 and 3 release
// everything, the next object still goes to the next thread in turn (no load balancing).
import { release, type Remote } from 'apartment-runtime';
import type { A } from '../classes/parts.js';
import { count, type TourStep } from '../tour-step.js';
import { finishTour, scenarioStart, startTour } from '../tour-runtime.js';

/**
 * Who asked for what, in order. The document names its figures' constraints in prose (client 1
 * asks first for an A, then client 2 for an A; client 1 uses four A's, on T1, T3, T4 and T5, two of
 * its objects share T5; T1 serves clients 1, 2 and 3); this order satisfies all of them, and
 * leaves T2 empty and T1 with one object once clients 2 and 3 have gone, as in the second figure.
 */
export const REQUESTS: readonly (readonly [client: number, cls: 'A' | 'B' | 'C'])[] = [
  [1, 'A'], [2, 'A'], [1, 'A'], [1, 'A'], [1, 'A'], [2, 'B'], [3, 'B'], [4, 'C'], [4, 'B'], [1, 'C'], [3, 'C'], [2, 'C'],
];

export const roundRobinStep: TourStep = {
  name: 'round-robin',
  title: 'VB6 round-robin thread pool: five threads, four clients, classes A, B, C',
  options: { threads: { describe: 'threads in the pool', default: '5' } },
  async run(options) {
    const threads = count(options, 'threads');
    const rt = await startTour({ assignment: { policy: 'round-robin', apartments: threads } });
    const threadOf = new Map<number, number>();
    const placed: { client: number; cls: string; thread: number }[] = [];
    const objects: Remote<A>[] = [];
    const create = async (client: number, cls: string): Promise<number> => {
      const obj = await rt.createObject<A>(cls);
      const apartment = await obj.where();
      if (!threadOf.has(apartment)) threadOf.set(apartment, threadOf.size + 1);
      objects.push(obj);
      placed.push({ client, cls, thread: threadOf.get(apartment)! });
      return threadOf.get(apartment)!;
    };
    const from = scenarioStart(rt);
    for (const [client, cls] of REQUESTS) await create(client, cls);
    // Clients 2 and 3 release their objects and close.
    REQUESTS.forEach(([client], i) => {
      if (client === 2 || client === 3) release(objects[i]!);
    });
    const next = await create(4, 'A');
    const trace = await finishTour(rt, from);
    const table = Array.from({ length: threads }, (_, t) => `T${t + 1}: ${placed.slice(0, REQUESTS.length).filter((p) => p.thread === t + 1).map((p) => `${p.cls}${p.client}`).join(' ')}`);
    return {
      trace,
      facts: { placed, next, threads },
      lesson: `${table.join(' · ')}. Objects of client 1 are on T${[...new Set(placed.filter((p) => p.client === 1).map((p) => p.thread))].join(', T')}; T1 serves clients ${[...new Set(placed.filter((p) => p.thread === 1).map((p) => p.client))].join(', ')}. After clients 2 and 3 released everything, the next object went to T${next}, not to an emptier thread: round-robin does no load balancing.`,
    };
  },
};
