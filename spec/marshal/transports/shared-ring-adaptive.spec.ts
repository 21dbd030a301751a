import { expect } from 'chai';
import { MAX_BUDGET_FACTOR } from '../../../marshal/transports/spin-policy.js';
import { echoPair, ids, range, roomInGate, send, until } from '../fixtures/ring-echo-pair.js';

// A link whose answers take longer than its spin budget (here 150 µs of work against 100 µs) would
// miss every spin and pay a wake-up each way. Woken soon after giving up, the consumer learns how
// long a spin would have had to be and spins that long from then on. The round trips follow each
// other as sequential calls do: each answer's arrival sends the next request. The thread gate is
// given room, as the back-off specs do, so whether spinning is allowed does not depend on the machine.
// How many answers a spin catches does: on a loaded machine (CI beside a build) the echo thread is
// descheduled and answers past any budget, so the spec asks for spins that catch some answers after
// the budget grew, not most: six runs on a quiet machine parked at 0-9 of 199, five beside two
// CPU-bound processes at 12-167, and CI beside a build once at 149.

describe('SharedRingTransport adapts its spin budget to answers that take longer than it', () => {
  it('grows the budget past spinMicros (never past its cap), then catches answers spinning, losing nothing', async () => {
    roomInGate();
    const spinMicros = 100;
    const trips = 400;
    const budgets: number[] = [];
    const parksAt: number[] = [];
    const pair = echoPair({ spinMicros }, {}, (batch) => {
      const id = batch[0]![1] as number;
      budgets.push(pair.transport.spinPolicy.spinBudget);
      parksAt.push(pair.transport.stats.parks);
      if (id + 1 < trips) send(pair.transport, 'slow', id + 1, 150);
    });
    send(pair.transport, 'slow', 0, 150);
    await until(() => pair.got.length === trips, `${trips} round trips`);
    const grownAt = budgets.findIndex((b) => b > spinMicros);
    expect(grownAt, 'the round trip after which the budget had grown').to.be.at.least(0);
    expect(Math.max(...budgets), 'the largest budget').to.be.at.most(spinMicros * MAX_BUDGET_FACTOR);
    // From the second half on, with a budget that fits: a fixed 100 µs budget would park at every one.
    const half = Math.max(grownAt, trips / 2);
    const parks = parksAt[trips - 1]! - parksAt[half]!;
    expect(parks, `parks over the ${trips - 1 - half} round trips after round trip ${half}`).to.be.lessThan(trips - 1 - half);
    expect(ids(pair.got)).to.deep.equal(range(0, trips));
  });
});
