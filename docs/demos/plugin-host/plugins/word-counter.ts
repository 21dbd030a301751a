// A plugin that counts words. It lives in its own apartment; its module globals are its own.
import { currentApartment } from 'apartment-runtime';
import { WordCounterApiRemote } from '../generated/plugin-interfaces.remote.js';
import type { WordCounterApi } from '../plugin-interfaces.js';

/** Counts words and reports progress to the host through a callback. */
export class WordCounter implements WordCounterApi {
  static threading = 'apartment';
  static remoteInterface = WordCounterApiRemote;
  private documents = 0;

  async count(text: string, progress: (note: string) => Promise<void>): Promise<number> {
    this.documents++;
    const words = text.split(/\s+/).filter(Boolean).length;
    await progress(`word-counter in apartment '${currentApartment().name}' counted ${words} words (document #${this.documents})`);
    return words;
  }
}
