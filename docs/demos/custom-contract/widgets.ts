// Classes for the custom-contract demo: a pinned UI model, and a worker-side helper that creates one.
import { ContractViolationError, currentApartment } from 'apartment-runtime';
import './pinned-contract.js';

/** Lives in the 'ui' apartment, whoever creates it; takes calls from the host thread only. */
export class UiModel {
  static threading = 'pinned-ui';
  where(): string {
    return currentApartment().name;
  }
}

/** An ordinary apartment-threaded helper that makes a UiModel from its own apartment. */
export class Helper {
  static threading = 'apartment';
  async makeModel(): Promise<{ helperIn: string; refused: string; model: UiModel }> {
    const model = await currentApartment().createInstance<{ where(): Promise<string> }>('UiModel');
    // The contract does not admit this apartment's calls: the helper can only hand the model on.
    const refused = await model.where().then(
      () => 'nothing: the call was admitted',
      (err: unknown) => (err instanceof ContractViolationError ? `${err.name} (${err.code}) ${err.message}` : String(err)),
    );
    return { helperIn: currentApartment().name, refused, model: model as unknown as UiModel };
  }
}
