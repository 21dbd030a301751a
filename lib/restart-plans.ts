// The restart policy of apartments created with `restart: 'on-fault'`: a faulted one is replaced by
// a new apartment with the same options and name, at most `maxRestarts` times in a row; its objects
// are not resurrected. The runtime facade records each plan at creation and hands over each
// apartment that is gone. Main thread only.
import type { Apartment } from '../apartments/apartment.js';
import type { LogEntry } from '../apartments/logger.js';
import type { ApartmentOptions } from './runtime-options.js';

/** How many times an apartment is replaced when its options do not say (maxRestarts). */
const DEFAULT_MAX_RESTARTS = 3;

export class RestartPlans {
  private readonly plans = new Map<Apartment, { options: ApartmentOptions; left: number }>();

  constructor(
    private readonly create: (options: ApartmentOptions) => Promise<Apartment>,
    private readonly log: (entry: LogEntry) => void,
    private readonly restarted: (faulted: Apartment, replacement: Apartment) => void,
  ) {}

  /** Remember how to replace `apt`, if its options ask for it. */
  add(apt: Apartment, options: ApartmentOptions): void {
    if (options.restart === 'on-fault') this.plans.set(apt, { options, left: options.maxRestarts ?? DEFAULT_MAX_RESTARTS });
  }

  /** `apt` is gone: replace it if it faulted and its plan has restarts left (never while the runtime closes). */
  gone(apt: Apartment, closing: boolean): void {
    const plan = this.plans.get(apt);
    this.plans.delete(apt);
    if (!plan || apt.state !== 'faulted' || plan.left <= 0 || closing) return;
    this.create({ ...plan.options, name: apt.name, maxRestarts: plan.left - 1 }).then(
      (replacement) => {
        this.log({ level: 'warn', message: `[restart] ${apt.label} faulted and was replaced by ${replacement.label}; its objects were not resurrected`, apartment: replacement.id });
        apt.replacedBy(replacement);
        this.restarted(apt, replacement);
      },
      (err: unknown) => this.log({ level: 'error', message: `[restart] could not replace ${apt.label}: ${(err as Error).message}`, apartment: apt.id }),
    );
  }
}
