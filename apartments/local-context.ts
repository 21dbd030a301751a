// Runtime internals: the engine object of this thread's apartment. currentApartment() gives user
// code a small view; the runtime's own features reach the endpoint, tables and control clients
// through this accessor instead, which is not part of the public API.
import { currentEngine } from './context.js';
import type { LocalApartment } from './local-apartment.js';

/** This thread's LocalApartment; NotInitializedError when the thread is in no apartment. */
export function localApartment(): LocalApartment {
  return currentEngine() as LocalApartment;
}
