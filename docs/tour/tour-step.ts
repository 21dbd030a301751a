// What a step of the tour is: a named scenario with options that change its outcome, which runs
// in a runtime of its own with tracing on and returns the trace, the lesson, and the facts the
// lesson rests on (the specs check those facts, and the trace's structure).
import type { Trace } from 'apartment-runtime';

/** One option a step takes on the command line (`--name=value`). */
export interface StepOption {
  readonly describe: string;
  readonly default: string;
  readonly choices?: readonly string[];
}

/** What a step returns. */
export interface StepOutcome {
  readonly trace: Trace;
  /** The lesson, as printed and put on the step's page: one to three sentences. */
  readonly lesson: string;
  /** What happened, in numbers the lesson rests on. */
  readonly facts: Readonly<Record<string, unknown>>;
}

export interface TourStep {
  readonly name: string;
  readonly title: string;
  readonly options: Readonly<Record<string, StepOption>>;
  run(options: Readonly<Record<string, string>>): Promise<StepOutcome>;
}

/** The step's options with defaults filled in; an unknown option or a value not in choices throws. */
export function resolveStepOptions(step: TourStep, given: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(step.options)) {
    const value = given[name] ?? spec.default;
    if (spec.choices && !spec.choices.includes(value)) throw new Error(`--${name} must be one of ${spec.choices.join(', ')}; got '${value}'`);
    out[name] = value;
  }
  for (const name of Object.keys(given)) if (!(name in step.options)) throw new Error(`step '${step.name}' has no option --${name}; it takes ${Object.keys(step.options).map((o) => `--${o}`).join(', ') || 'none'}`);
  return out;
}

/** A whole number option, at least `min`. */
export function count(options: Readonly<Record<string, string>>, name: string, min = 1): number {
  const n = Number(options[name]);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}; got '${options[name]}'`);
  return n;
}
