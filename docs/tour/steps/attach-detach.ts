// Apartment hooks, the DLL entry point done right: a hooks module's attach runs in every apartment
// (replayed in those that existed before it registered) before that apartment serves another
// call, and its detach runs once when the apartment closes or dies, never twice.
import type { Tenant } from '../classes/hooks.js';
import type { TourStep } from '../tour-step.js';
import { finishTour, scenarioStart, startTour, untilClosed } from '../tour-runtime.js';

/** The hook marks and first-call marks a lane shows. */
const HOOK_MARK = /^(attach|detach \w+|first call)$/;

export const attachDetach: TourStep = {
  name: 'attach-detach',
  title: 'Apartment hooks: attach replayed and before the first call, detach once',
  options: {
    fault: { describe: "'yes': the apartment that was there first crashes and detaches for the fault; 'no': it is closed", default: 'no', choices: ['yes', 'no'] },
  },
  async run(options) {
    const fault = options.fault === 'yes';
    const rt = await startTour();
    const early = await rt.createApartment({ name: 'early' });
    const earlyTenant = await early.createObject<Tenant>('Tenant');
    const from = scenarioStart(rt);
    await rt.registerApartmentHooks({ module: new URL('../classes/hooks.js', import.meta.url), export: 'tourHooks' });
    const earlySaw = await earlyTenant.arrive();
    const late = await rt.createApartment({ name: 'late' });
    const lateSaw = await (await late.createObject<Tenant>('Tenant')).arrive();
    if (fault) {
      // crash() may answer before the thread dies, or die first: either way the fault follows.
      await earlyTenant.crash().catch(() => undefined);
      await untilClosed(early);
    } else await early.close();
    const trace = await finishTour(rt, from);
    const lanes: Record<number, string[]> = {};
    for (const e of trace.events) if (e.kind === 'Mark' && HOOK_MARK.test(e.name)) (lanes[e.apartment] ??= []).push(e.name);
    const earlyDetach = (lanes[early.id] ?? []).find((m) => m.startsWith('detach')) ?? 'no detach';
    return {
      trace,
      facts: { fault, early: early.id, late: late.id, earlySaw, lateSaw, lanes },
      lesson: `The hooks registered while 'early' already ran: its attach was replayed there (and in the main apartment) before its next call, which found ${JSON.stringify(earlySaw)}. 'late' started afterwards and attached while starting, before it said it was ready: its lane shows that attach before its first call, which found ${JSON.stringify(lateSaw)}. 'early' then ${fault ? 'crashed' : 'was closed'} and ran ${earlyDetach}; 'late' and the main apartment detached when the runtime closed, each once.`,
    };
  },
};
