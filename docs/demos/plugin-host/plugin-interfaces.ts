// The plugins' interfaces: compiled by apartment-proxygen into generated/ (typed proxies for the
// host, stub tables that check every call at the plugin's boundary).

/**
 * Counts words and reports progress through a callback.
 * @remote
 */
export interface WordCounterApi {
  count(text: string, progress: (note: string) => Promise<void>): Promise<number>;
}

/**
 * Finds unknown words.
 * @remote
 */
export interface SpellCheckerApi {
  check(text: string): { apartment: string; unknown: string[] };
}
