// The runtime every step runs in: tracing on, log lines kept quiet (the trace shows what
// happened), classes of the tour registered by name. Closed by the step, which then takes the trace.
import { Runtime, type Apartment, type RuntimeOptions, type Trace } from 'apartment-runtime';

const CLASSES: Readonly<Record<string, string>> = {
  Room: 'room', Tally: 'tally', Pauser: 'tally', Racer: 'racer', A: 'parts', B: 'parts', C: 'parts', Plugin: 'plugin', Crossing: 'crossing', Ledger: 'crossing', FreeTally: 'free-tally', Neighbour: 'neighbour',
  Widget: 'workshop', Sprocket: 'workshop', Part: 'workshop', MainPart: 'workshop', Maker: 'workshop', Sharer: 'sharer', CacheUser: 'cache-user',
  Notebook: 'notebook', Borrower: 'notebook', Tenant: 'hooks', Script: 'vm',
};

/** Start a traced runtime with the tour's classes registered. */
export async function startTour(options: RuntimeOptions = {}): Promise<Runtime> {
  const rt = await Runtime.start({ logger: () => {}, ...options, trace: true });
  for (const [name, file] of Object.entries(CLASSES)) {
    rt.registerClass(name, { module: new URL(`./classes/${file}.js`, import.meta.url), export: name });
  }
  return rt;
}

/**
 * Where the scenario begins: what was traced so far is setup (starting apartments, loading
 * classes), kept out of the step's pages so the scenario fills them. Call it with no call in flight.
 */
export function scenarioStart(rt: Runtime): number {
  const events = rt.trace().events;
  return events.length > 0 ? events[events.length - 1]!.seq + 1 : 0;
}

/** Close the runtime, then take what it traced from `from` (a scenarioStart()) on. */
export async function finishTour(rt: Runtime, from = 0): Promise<Trace> {
  await rt.close();
  const trace = rt.trace();
  return { ...trace, events: trace.events.filter((e) => e.seq >= from) };
}

/**
 * Resolves once `apartment` has closed (or faulted). Idle apartments do not keep the process
 * alive, so a timer does while the host waits; after `hangGuardMs` it rejects instead of hanging.
 */
export function untilClosed(apartment: Apartment, hangGuardMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      if (apartment.state !== 'closed' && apartment.state !== 'faulted') return false;
      clearInterval(poll);
      clearTimeout(guard);
      resolve();
      return true;
    };
    const poll = setInterval(check, 10);
    const guard = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`[tour] apartment ${apartment.id} did not close within ${hangGuardMs} ms; it is ${apartment.state}`));
    }, hangGuardMs);
    check();
  });
}
