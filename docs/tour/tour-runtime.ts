// The runtime every step runs in: tracing on, log lines kept quiet (the trace shows what
// happened), classes of the tour registered by name. Closed by the step, which then takes the trace.
import { Runtime, type RuntimeOptions, type Trace } from 'apartment-runtime';

const CLASSES: Readonly<Record<string, string>> = {
  Room: 'room', Tally: 'tally', Pauser: 'tally', Racer: 'racer', A: 'parts', B: 'parts', C: 'parts', Plugin: 'plugin', Crossing: 'crossing', Ledger: 'crossing',
};

/** Start a traced runtime with the tour's classes registered. */
export async function startTour(options: RuntimeOptions = {}): Promise<Runtime> {
  const rt = await Runtime.start({ logger: () => {}, ...options, trace: true });
  for (const [name, file] of Object.entries(CLASSES)) {
    rt.registerClass(name, { module: new URL(`./classes/${file}.js`, import.meta.url), export: name });
  }
  return rt;
}

/** Close the runtime, then take everything it traced. */
export async function finishTour(rt: Runtime): Promise<Trace> {
  await rt.close();
  return rt.trace();
}
