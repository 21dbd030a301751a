// Classes for the custom-contract demo: a pinned UI model, and a worker-side helper that creates one.
import { currentApartment } from 'apartment-runtime';
import './pinned-contract.js';

/** Lives in the 'ui' apartment, whoever creates it. */
export class UiModel {
  static threading = 'pinned-ui';
  where(): string {
    return currentApartment().name;
  }
}

/** An ordinary apartment-threaded helper that makes a UiModel from its own apartment. */
export class Helper {
  static threading = 'apartment';
  async makeModel(): Promise<{ helperIn: string; modelIn: string }> {
    const model = await currentApartment().createInstance<{ where(): Promise<string> }>('UiModel');
    return { helperIn: currentApartment().name, modelIn: await model.where() };
  }
}
