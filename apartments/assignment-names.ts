// The assignment policies an apartment can name when it creates an object (functions cannot cross
// threads, so custom policies are registered on the runtime and named there), and the options of
// createObjectWith() that carry one.
import { optionKeys } from '../marshal/option-keys.js';

/**
 * A built-in assignment policy by name, or a sized pool of one; with `process`, its apartments run
 * in that process server (VB6's out-of-process component and its thread models), with `node` on
 * that node of the cluster (DCOM's remote server); either is for the host only.
 */
export type NamedAssignment =
  | 'single-thread'
  | 'round-robin'
  | 'thread-per-object'
  | 'least-loaded'
  | { readonly policy: 'round-robin' | 'least-loaded'; readonly apartments: number; readonly process?: string; readonly node?: string }
  | { readonly policy: 'single-thread' | 'thread-per-object'; readonly process: string }
  | { readonly policy: 'single-thread' | 'thread-per-object'; readonly node: string };

/** What an apartment's code may pass as an assignment: a name, or (on the main apartment only) a policy function. */
export type AssignmentChoice = NamedAssignment | ((...args: never[]) => unknown);

/** The keys an assignment object ({ policy, apartments, process?, node? }) may have; any other is refused. */
export const ASSIGNMENT_KEYS = optionKeys<Extract<NamedAssignment, { apartments: number }>>({ policy: true, apartments: true, process: true, node: true });

/** Options of createObjectWith(), from any apartment: what applies to this one object. */
export interface CreateWithOptions {
  /** The assignment policy for this object instead of the runtime's. */
  assignment?: AssignmentChoice;
}
/** The keys createObjectWith() takes; any other is refused. */
export const CREATE_OPTION_KEYS = optionKeys<CreateWithOptions>({ assignment: true });
