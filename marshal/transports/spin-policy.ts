// When a shared-ring consumer spins for its next input instead of parking, and for how long. It
// spins while spinning has been catching input; after MAX_MISSES spins in a row that found nothing
// it parks, and then spins only as a probe: one spin per PROBE_PERIOD_MS of wall-clock time, with a
// budget long enough to outlast a wake-up of the other side. A caught probe turns spinning on again.
// Without probes, spinning stayed off for good after a slow start: the one other way back, a
// parked consumer woken within its spin budget, never happens where waking a thread costs more
// than the budget (measured: ≈ 40 µs a wake-up against the 50 µs budget, so a sequential call over
// shared memory took 95 µs parked against 5 µs spinning). The probe boundaries are wall-clock, the
// same on every thread, so both sides of a link probe at once: each side's probe catches input only
// while the other side is awake. Owner thread only.

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

/** Milliseconds on the wall clock, at microsecond resolution, the same on every thread. */
const wallClockMs = (): number => performance.timeOrigin + performance.now();

/** One consumer's spin decisions: whether to spin now, with which budget, and what its spins found. */
export class SpinPolicy {
  /** Spins in a row that ran out their budget. */
  misses = 0;
  /** The budget of the spin under way, µs: `spinMicros`, or a probe's. */
  budget: number;
  /** The probe period this consumer last probed in. */
  private probedPeriod = -1;

  /** `spinMicros` 0: never spin. `clock` (ms) is the wall clock; specs pass their own. */
  constructor(readonly spinMicros: number, private readonly clock: () => number = wallClockMs) {
    this.budget = spinMicros;
  }

  /** Whether to spin now (the thread gate permitting), setting `budget` for that spin. */
  shouldSpin(): boolean {
    if (this.spinMicros === 0) return false;
    if (this.misses < MAX_MISSES) {
      this.budget = this.spinMicros;
      return true;
    }
    const period = Math.floor(this.clock() / PROBE_PERIOD_MS);
    if (period === this.probedPeriod) return false;
    this.probedPeriod = period;
    this.budget = Math.max(PROBE_MICROS, this.spinMicros);
    return true;
  }

  /** A spin found input, or a park was woken within the spin budget: spinning pays. */
  caught(): void {
    this.misses = 0;
  }

  /** A spin ran out its budget. */
  missed(): void {
    this.misses++;
  }
}
