// A plugin that checks spelling against a tiny dictionary, and refuses empty input with an error
// that crosses back to the host.
import { currentApartment } from 'apartment-runtime';
import { SpellCheckerApiRemote } from '../generated/plugin-interfaces.remote.js';
import type { SpellCheckerApi } from '../plugin-interfaces.js';

const dictionary = new Set(['apartments', 'keep', 'objects', 'on', 'their', 'own', 'threads']);

/** Thrown for input the plugin cannot check; it crosses apartments with its fields intact. */
export class EmptyDocumentError extends Error {
  override readonly name = 'EmptyDocumentError';
  readonly plugin = 'spell-checker';
}

/** Finds unknown words. */
export class SpellChecker implements SpellCheckerApi {
  static threading = 'apartment';
  static remoteInterface = SpellCheckerApiRemote;

  check(text: string): { apartment: string; unknown: string[] } {
    if (text.trim() === '') throw new EmptyDocumentError('nothing to check: the document is empty');
    const unknown = text.toLowerCase().split(/\W+/).filter((w) => w && !dictionary.has(w));
    return { apartment: currentApartment().name, unknown };
  }
}
