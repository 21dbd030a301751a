// The keys an options object may have, and the refusal of any other: a typo such as
// Runtime.start({ defaultTimeOutMs: 50 }) was ignored, and the default applied without a word.
// Each options type keeps its keys next to it, built by optionKeys<T>() from a record the compiler
// checks against the type: a key added to the type and not to the record fails to compile, as does
// a key in the record that the type lacks. Only own enumerable string keys are looked at (what a
// spread or a structured clone carries); symbols and inherited members are the caller's business.
import { InvalidArgumentError } from './errors.js';

/** Every key of `T`, each mapped to true: the form optionKeys() takes. */
export type KeyRecord<T> = { readonly [K in keyof T]-?: true };

/** The known keys of one options type. */
export interface OptionKeys {
  readonly keys: ReadonlySet<string>;
  /** The keys in the order written, for messages. */
  readonly listed: string;
}

/** The known keys of options type `T`, from a record naming each of them. */
export function optionKeys<T>(record: KeyRecord<T>): OptionKeys {
  const names = Object.keys(record);
  return Object.freeze({ keys: new Set(names), listed: names.join(', ') });
}

/** The longest part of an unknown key shown in a message (keys come from a host or plugin). */
const SHOWN_KEY_CHARS = 64;

/**
 * Refuse an own key of `options` that `known` does not list, with InvalidArgumentError
 * [unknown-option] naming it, `what` the object is, every known key, and the closest known key
 * when one is close. `parameter` is where the object sits in its caller's arguments ('options',
 * 'node.heartbeat'). Cheap enough for once per call: no allocation unless a key is unknown.
 */
export function checkOptionKeys(options: object, known: OptionKeys, what: string, parameter = 'options'): void {
  for (const key in options) {
    if (!known.keys.has(key) && Object.hasOwn(options, key)) throw unknownOption(key, known, what, parameter);
  }
}

function unknownOption(key: string, known: OptionKeys, what: string, parameter: string): InvalidArgumentError {
  const shown = key.length > SHOWN_KEY_CHARS ? `${key.slice(0, SHOWN_KEY_CHARS)}…` : key;
  const near = closestKey(key, known.keys);
  const hint = near === undefined ? '' : ` Did you mean '${near}'?`;
  return new InvalidArgumentError(
    `[unknown-option] ${what} has no option '${shown}'.${hint} Its options are: ${known.listed}; fix the key's spelling or remove it`,
    { parameter: `${parameter}.${shown}` },
  );
}

/**
 * The known key nearest `key` when it is close enough to be a typo: the same but for case, or
 * within a few edits (a third of its length, at least 1, at most 3).
 */
export function closestKey(key: string, known: ReadonlySet<string>): string | undefined {
  if (key.length > SHOWN_KEY_CHARS) return undefined;
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.min(3, Math.max(1, Math.floor(key.length / 3))) + 1;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Edits (insert, delete, replace, swap of neighbours) from `a` to `b`: the optimal string alignment distance. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i]!;
    const above = rows[i - 1]!;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row[j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
