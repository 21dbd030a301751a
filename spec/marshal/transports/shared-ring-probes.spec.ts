import { expect } from 'chai';
import { monotonicMs } from '../../../marshal/monotonic-clock.js';
import { MAX_MISSES, PROBE_PERIOD_MS } from '../../../marshal/transports/spin-policy.js';
import { echoPair, ids, range, roomInGate, send, until } from '../fixtures/ring-echo-pair.js';

// A link whose spins stopped paying (here: a budget of 1 µs, which no round trip fits) parks, and
// then spins only as a probe, once per period of the process's clock, with a budget long enough to outlast a
// wake-up of the other side. Before probes, such a link never spun again: the one way back was a
// park woken within the budget, which no wake-up on a slow machine is. The thread gate is given
// room, as the back-off specs do, so whether spinning is allowed does not depend on the machine.

describe('SharedRingTransport probes again after its spins stopped paying', () => {
  it('spins about once per probe period, not at every round trip, and loses nothing', async () => {
    roomInGate();
    const { transport, got } = echoPair({ spinMicros: 1 });
    let i = 0;
    const roundTrip = async (): Promise<void> => {
      send(transport, 'n', i);
      await until(() => got.length === i + 1, `echo ${i}`);
      i++;
    };
    while (transport.spinPolicy.misses < MAX_MISSES) await roundTrip();

    const before = transport.stats.spins;
    const probesBefore = transport.spinPolicy.probes;
    const started = monotonicMs();
    const firstPeriod = Math.floor(started / PROBE_PERIOD_MS);
    let trips = 0;
    // Round trips through at least four period boundaries (on a busy machine that may take long).
    while (Math.floor((monotonicMs()) / PROBE_PERIOD_MS) - firstPeriod < 4 || trips < 20) {
      await roundTrip();
      trips++;
    }
    const periods = Math.floor((monotonicMs()) / PROBE_PERIOD_MS) - firstPeriod + 1;
    const spins = transport.stats.spins - before;
    const probes = transport.spinPolicy.probes - probesBefore;
    expect(spins, `spins over ${periods} periods and ${trips} round trips`).to.be.at.least(3);
    // Spins that are not probes follow a spin that caught input, and how many catch depends on the
    // machine (a spin descheduled past its budget can still catch); the probes themselves do not.
    expect(probes, `probes over ${periods} periods and ${trips} round trips`).to.be.within(1, periods);
    expect(ids(got)).to.deep.equal(range(0, i));
  });
});
