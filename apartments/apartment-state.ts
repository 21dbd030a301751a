// The lifecycle of a worker apartment: starting → ready → closing → closed, or faulted from any
// live state. Transitions outside this table are runtime bugs and throw.
import { ApartmentError } from '../marshal/errors.js';

/** Where an apartment is in its life. */
export type ApartmentState = 'starting' | 'ready' | 'closing' | 'closed' | 'faulted';

const allowed: Readonly<Record<ApartmentState, readonly ApartmentState[]>> = {
  starting: ['ready', 'closing', 'faulted'],
  ready: ['closing', 'faulted'],
  closing: ['closed', 'faulted'],
  closed: [],
  faulted: [],
};

/** Whether the apartment can still serve or accept calls. */
export function isLive(state: ApartmentState): boolean {
  return state === 'starting' || state === 'ready';
}

/** Check a transition; returns the new state. */
export function transition(from: ApartmentState, to: ApartmentState, label: string): ApartmentState {
  if (!allowed[from].includes(to)) {
    throw new ApartmentError('E_UNEXPECTED', `[apartment-state] ${label} cannot go from ${from} to ${to}; this is a runtime bug, please report it`);
  }
  return to;
}
