// A timer for a duration a user chose: Node fires a timer longer than 2^31 - 1 ms after 1 ms (and
// warns), so `Infinity` or a month failed a wait at once. This one waits in steps Node keeps, and
// never fires for Infinity. Owner thread only.
import { monotonicMs } from './monotonic-clock.js';

/** The longest wait a Node timer keeps: a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A pending long timer; clear() stops it (also after it fired: then nothing happens). */
export interface LongTimer {
  clear(): void;
}

/** Call `fire` once `ms` milliseconds have passed (never for Infinity); unref'd with `unref`, as a Node timer. */
export function setLongTimeout(fire: () => void, ms: number, unref = false): LongTimer {
  let timer: NodeJS.Timeout | undefined;
  const due = monotonicMs() + ms;
  const arm = (): void => {
    const left = due - monotonicMs();
    if (left <= 0) {
      timer = undefined;
      fire();
      return;
    }
    timer = setTimeout(arm, Math.min(MAX_TIMER_MS, left));
    if (unref) timer.unref();
  };
  if (ms !== Infinity) {
    timer = setTimeout(ms > MAX_TIMER_MS ? arm : fire, Math.min(MAX_TIMER_MS, ms));
    if (unref) timer.unref();
  }
  return {
    clear: () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/**
 * Whether `work` settles (either way) within `ms`: true as soon as it does, false once `ms` passed
 * first (never for Infinity). Waits that must not wedge race a promise nobody controls against
 * the clock; the timer is cleared either way, and `work`'s rejection counts as handled here, so
 * the caller still awaits `work` itself for its value or error.
 */
export function settlesWithin(work: Promise<unknown>, ms: number, unref = false): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setLongTimeout(() => resolve(false), ms, unref);
    const settled = (): void => {
      timer.clear();
      resolve(true);
    };
    work.then(settled, settled);
  });
}
