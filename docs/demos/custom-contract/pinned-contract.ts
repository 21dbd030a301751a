// A custom threading contract: `pinned-ui` puts every instance in the worker apartment named 'ui'
// (started on first use), however and wherever it is created, and admits calls from the host thread
// (the main apartment) only. Defined in its own module so that every thread that loads a class using
// it defines it exactly once (ES modules load once per thread).
import { defineContract, getContract, type Contract } from 'apartment-runtime';

function define(): Contract {
  try {
    return getContract('pinned-ui');
  } catch {
    return defineContract({
      name: 'pinned-ui',
      marshal: 'standard',
      place: () => ({ kind: 'named', name: 'ui' }),
      // Runs in 'ui' before each call that arrives from another apartment.
      admit: (call) => call.callerApartment === 0 || `a ${call.className} takes calls from the host thread only; hand it to the host and let the host call it`,
    });
  }
}

export const pinnedUi: Contract = define();
