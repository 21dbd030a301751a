import { expect } from 'chai';
import { BUDGET_MARGIN, MAX_BUDGET_FACTOR, MAX_MISSES, PROBE_MICROS, PROBE_PERIOD_MS, SpinPolicy } from '../../../marshal/transports/spin-policy.js';

// The spin decisions of one shared-ring consumer, on a clock the spec moves (ms).

/** A policy on a clock the spec sets, starting inside a probe period. */
function policyAt(spinMicros: number, startMs = 10 * PROBE_PERIOD_MS + 1): { policy: SpinPolicy; clock: { ms: number } } {
  const clock = { ms: startMs };
  return { policy: new SpinPolicy(spinMicros, () => clock.ms), clock };
}

/** Miss `n` spins in a row. */
function miss(policy: SpinPolicy, n: number): void {
  for (let i = 0; i < n; i++) {
    expect(policy.shouldSpin(), `spin ${i + 1} before the misses add up`).to.equal(true);
    policy.missed();
  }
}

describe('marshal/transports/spin-policy: a consumer spins with its own budget while spinning pays', () => {
  it('spins every time, with spinMicros as the budget, while fewer than MAX_MISSES spins in a row missed', () => {
    const { policy } = policyAt(50);
    for (let i = 0; i < 100; i++) {
      expect(policy.shouldSpin()).to.equal(true);
      expect(policy.budget).to.equal(50);
      if (i % 2 === 0) policy.missed();
      else policy.caught();
    }
    expect(policy.misses).to.equal(0);
  });

  it('never spins with spinMicros 0, in any probe period', () => {
    const { policy, clock } = policyAt(0);
    for (let i = 0; i < 5; i++, clock.ms += PROBE_PERIOD_MS) expect(policy.shouldSpin()).to.equal(false);
  });
});

describe('marshal/transports/spin-policy: after MAX_MISSES misses it only probes, once per wall-clock period', () => {
  it('parks for the rest of the period, then spins once with a budget that outlasts a wake-up', () => {
    const { policy, clock } = policyAt(50);
    miss(policy, MAX_MISSES);
    // The first decision after the misses, in a period not probed yet, is a probe.
    expect(policy.shouldSpin(), 'the first probe').to.equal(true);
    expect(policy.budget).to.equal(PROBE_MICROS);
    policy.missed();
    for (let i = 0; i < 1_000; i++) expect(policy.shouldSpin(), 'in the probed period').to.equal(false);
    clock.ms += PROBE_PERIOD_MS;
    expect(policy.shouldSpin(), 'in the next period').to.equal(true);
    expect(policy.budget).to.equal(PROBE_MICROS);
    policy.missed();
    expect(policy.shouldSpin(), 'again in that period').to.equal(false);
  });

  it('probes at the same wall-clock boundaries on every thread', () => {
    const clock = { ms: 7 * PROBE_PERIOD_MS + PROBE_PERIOD_MS - 1 };
    const sides = [new SpinPolicy(50, () => clock.ms), new SpinPolicy(50, () => clock.ms)];
    for (const side of sides) miss(side, MAX_MISSES);
    expect(sides.map((s) => s.shouldSpin())).to.deep.equal([true, true]);
    for (const side of sides) side.missed();
    clock.ms += 1;
    expect(sides.map((s) => s.shouldSpin()), 'both at the next boundary').to.deep.equal([true, true]);
  });

  it('turns spinning back on when a probe catches input', () => {
    const { policy } = policyAt(50);
    miss(policy, MAX_MISSES);
    expect(policy.shouldSpin()).to.equal(true);
    policy.caught();
    for (let i = 0; i < 10; i++) {
      expect(policy.shouldSpin()).to.equal(true);
      expect(policy.budget).to.equal(50);
      policy.caught();
    }
  });

  it('probes with its own budget when that is longer than PROBE_MICROS', () => {
    const { policy } = policyAt(PROBE_MICROS * 3);
    miss(policy, MAX_MISSES);
    expect(policy.shouldSpin()).to.equal(true);
    expect(policy.budget).to.equal(PROBE_MICROS * 3);
  });
});

describe('marshal/transports/spin-policy: the budget adapts to answers that come after it ran out', () => {
  it('spins as long as its spin and its park together, with a margin, after a wake-up soon after parking', () => {
    const { policy } = policyAt(50);
    expect(policy.shouldSpin()).to.equal(true);
    policy.missed(50);
    policy.woken(30);
    expect(policy.spinBudget).to.equal(80 * BUDGET_MARGIN);
    expect(policy.shouldSpin()).to.equal(true);
    expect(policy.budget, 'the next spin').to.equal(80 * BUDGET_MARGIN);
    expect(policy.misses, 'spinning pays again').to.equal(0);
  });

  it('never grows past MAX_BUDGET_FACTOR times spinMicros, and learns nothing from a later wake-up', () => {
    const { policy } = policyAt(50);
    policy.missed(50);
    policy.woken(50 * MAX_BUDGET_FACTOR - 60);
    expect(policy.spinBudget, 'capped').to.equal(50 * MAX_BUDGET_FACTOR);
    const late = policyAt(50).policy;
    late.missed(50);
    late.woken(50 * MAX_BUDGET_FACTOR);
    expect(late.spinBudget, 'a wake-up past the cap').to.equal(50);
    expect(late.misses, 'still one miss').to.equal(1);
  });

  it('counts a park without a spin before it as a spin of 0 µs', () => {
    const { policy } = policyAt(50);
    policy.woken(100);
    expect(policy.spinBudget).to.equal(100 * BUDGET_MARGIN);
  });

  it('keeps the grown budget through one miss, and goes back to spinMicros after MAX_MISSES in a row', () => {
    const { policy } = policyAt(50);
    policy.woken(100);
    const grown = policy.spinBudget;
    policy.missed(grown);
    expect(policy.spinBudget, 'after one miss').to.equal(grown);
    for (let i = 1; i < MAX_MISSES; i++) policy.missed(grown);
    expect(policy.spinBudget, `after ${MAX_MISSES} misses`).to.equal(50);
  });

  it('never grows with spinMicros 0', () => {
    const { policy } = policyAt(0);
    policy.woken(1);
    expect(policy.spinBudget).to.equal(0);
    expect(policy.shouldSpin()).to.equal(false);
  });
});
