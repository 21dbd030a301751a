// When a shared-ring consumer spins for its next input instead of parking, and for how long. It
// spins while spinning has been catching input; after MAX_MISSES spins in a row that found nothing
// it parks, and then spins only as a probe: one spin per PROBE_PERIOD_MS of the process's clock,
// with a budget long enough to outlast a wake-up of the other side. A caught probe turns spinning on
// again. Without probes, spinning stayed off for good after a slow start: the one other way back, a
// parked consumer woken within its spin budget, never happens where waking a thread costs more
// than the budget (measured: ≈ 40 µs a wake-up against the 50 µs budget, so a sequential call over
// shared memory took 95 µs parked against 5 µs spinning). The probe boundaries are on the process's
// monotonic clock (monotonic-clock.ts), the same on every thread, so both sides of a link probe at
// once: each side's probe catches input only while the other side is awake.
//
// The budget adapts to the work on the other side: a consumer woken soon after it gave up spinning
// learns that a spin as long as its spin and its park together would have caught the input, and
// spins that long (with a margin) from then on, up to MAX_BUDGET_FACTOR times spinMicros; when
// spins stop paying (MAX_MISSES in a row) the budget goes back to spinMicros. With a fixed 50 µs,
// a 64 KiB echo, whose answer takes ≈ 60 µs to come, missed every time and paid a wake-up each
// way: 1.38× a raw postMessage round trip, against 0.68× and 0.87× adapted (two bench runs).
// Owner thread only.
import { monotonicMs } from '../monotonic-clock.js';

/** Spins in a row that found nothing, after which the consumer parks and only probes. */
export const MAX_MISSES = 2;
/**
 * How often a consumer that stopped spinning probes whether spinning pays again, in ms. A probe
 * that finds nothing costs at most PROBE_MICROS of one core: 2.5% of it, and only while the
 * consumer's link carries traffic (decisions are made only after a send or a drain). 100 ms left a
 * sequential call at 10–48 µs a block while it found its way back; 20 ms, 5–12 µs.
 */
export const PROBE_PERIOD_MS = 20;
/** The least budget of a probe spin, µs: a wake-up of the other side and its turn fit in it. */
export const PROBE_MICROS = 500;

/** The longest an adapted spin budget grows to, as a multiple of spinMicros. */
export const MAX_BUDGET_FACTOR = 5;
/** How much longer than the wait it learned of an adapted budget is. */
export const BUDGET_MARGIN = 1.25;


/** One consumer's spin decisions: whether to spin now, with which budget, and what its spins found. */
export class SpinPolicy {
  /** Spins in a row that ran out their budget. */
  misses = 0;
  /** The budget of the spin under way, µs: the adapted spin budget, or a probe's. */
  budget: number;
  /** The budget of an ordinary spin, µs: spinMicros, grown by wake-ups a longer spin would have caught. */
  spinBudget: number;
  /** Probe spins started (diagnostics and specs): at most one per probe period. */
  probes = 0;
  /** The probe period this consumer last probed in. */
  private probedPeriod = -1;
  /** How long the spin before the current park ran, µs (0 when the consumer parked without spinning). */
  private spunBeforePark = 0;

  /** `spinMicros` 0: never spin. `clock` (ms) is the process's monotonic clock, the same on every thread; specs pass their own. */
  constructor(readonly spinMicros: number, private readonly clock: () => number = monotonicMs) {
    this.budget = this.spinBudget = spinMicros;
  }

  /** Whether to spin now (the thread gate permitting), setting `budget` for that spin. */
  shouldSpin(): boolean {
    if (this.spinMicros === 0) return false;
    if (this.misses < MAX_MISSES) {
      this.budget = this.spinBudget;
      return true;
    }
    const period = Math.floor(this.clock() / PROBE_PERIOD_MS);
    if (period === this.probedPeriod) return false;
    this.probedPeriod = period;
    this.probes++;
    this.budget = Math.max(PROBE_MICROS, this.spinMicros);
    return true;
  }

  /** A spin found input: spinning pays. */
  caught(): void {
    this.misses = 0;
    this.spunBeforePark = 0;
  }

  /** A spin ran out its budget after `spunMicros`; the consumer parks next. */
  missed(spunMicros = this.budget): void {
    this.misses++;
    this.spunBeforePark = spunMicros;
    // Traffic stopped (or the answers outgrew the cap): learn the budget afresh when it resumes.
    if (this.misses >= MAX_MISSES) this.spinBudget = this.spinMicros;
  }

  /**
   * The parked consumer was woken by input `parkedMicros` after it parked. A spin of the spin
   * before and the park together would have caught it: when that fits under the cap, spin that
   * long (with a margin) from now on, and spinning pays again.
   */
  woken(parkedMicros: number): void {
    const wait = this.spunBeforePark + parkedMicros;
    this.spunBeforePark = 0;
    const cap = this.spinMicros * MAX_BUDGET_FACTOR;
    if (this.spinMicros === 0 || !(wait <= cap)) return;
    this.spinBudget = Math.min(cap, Math.max(this.spinMicros, wait * BUDGET_MARGIN));
    this.caught();
  }
}
