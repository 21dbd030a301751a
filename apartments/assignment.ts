// Assignment policies: which worker apartment an externally created object goes to (COM's
// out-of-process server threading, Visual Basic's thread pool choices). A policy is a function of
// the request and the apartments it manages; it answers one of them, or 'new' to start another.
import type { Apartment } from './apartment.js';

/** What is being placed, and for whom. */
export interface AssignmentRequest {
  readonly className: string;
  /** The apartment asking (0 for the main apartment). */
  readonly creator: number;
}

/** Picks an apartment for a request among the live ones the policy manages, or asks for a new one. */
export type AssignmentPolicy = (request: AssignmentRequest, apartments: readonly Apartment[]) => Apartment | 'new';

/** `single-thread`: every externally created object goes to one shared worker apartment. */
export const singleThread: AssignmentPolicy = (_request, apartments) => apartments[0] ?? 'new';

/** The built-in policies by name. */
export const assignmentPolicies: Readonly<Record<string, AssignmentPolicy>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, AssignmentPolicy>, { 'single-thread': singleThread }),
);
