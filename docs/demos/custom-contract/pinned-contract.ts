// A custom threading contract: `pinned-ui` puts every instance in the worker apartment named 'ui'
// (started on first use), however and wherever it is created. Defined in its own module so that
// every thread that loads a class using it defines it exactly once (ES modules load once per thread).
import { defineContract, getContract, type Contract } from 'apartment-runtime';

function define(): Contract {
  try {
    return getContract('pinned-ui');
  } catch {
    return defineContract({
      name: 'pinned-ui',
      marshal: 'standard',
      place: () => ({ kind: 'named', name: 'ui' }),
    });
  }
}

export const pinnedUi: Contract = define();
