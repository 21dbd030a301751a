// The features every worker apartment carries, plugged in by the worker's composition root: the
// built-in contracts, the value types that must be rebuildable wherever one arrives (mutexes,
// counts, engine copies), and the control services features serve in each apartment.
import type { LocalApartment } from '../apartments/local-apartment.js';
import './contracts/builtins.js';
import './shared-state/shared-mutex.js';
import './shared-state/atomic-ref-count.js';
import { serveMarshalTokens } from './interface-table.js';
import { serveInterfaces } from './interface-service.js';
import { serveScriptApartment } from './script-engine/script-service.js';
import { useDeadThreadTable } from './shared-state/dead-threads.js';
import { bootTrace, serveTrace } from './trace/trace-service.js';

/** Serve the features' per-apartment control services in `apartment`. */
export function installApartmentFeatures(apartment: LocalApartment): void {
  serveMarshalTokens(apartment.control, apartment);
  serveInterfaces(apartment.control, apartment);
}

/**
 * Serve what only worker apartments serve for features (the main apartment interrupts scripts
 * there), and take what the host's features handed this apartment at boot (`boot.features`).
 */
export function installWorkerFeatures(apartment: LocalApartment, boot: Readonly<Record<string, unknown>>): void {
  installApartmentFeatures(apartment);
  serveScriptApartment(apartment.control, apartment);
  serveTrace(apartment.control, apartment.id);
  if (boot.deadThreads !== undefined) useDeadThreadTable(boot.deadThreads);
  // Tracing starts before the hooks attach, so an apartment's own attach is on its lane.
  if (boot.trace !== undefined) bootTrace(apartment.id, boot.trace);
}
