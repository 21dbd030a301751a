import { expect } from 'chai';
import { decodeFrame, NatsPeer, type NatsFrame } from '../../../marshal/transports/nats-peer.js';
import { MAX_PARTS_MS, partsLooks, partsTimeMs, watchParts } from '../../../marshal/transports/parts-watch.js';
import { ReassemblyBudget } from '../../../marshal/transports/reassembly-budget.js';

// A host may declare a heartbeat of up to 1000 × 1 h. The parts of a message it begins and never
// finishes are held for its whole heartbeat, but never past MAX_PARTS_MS, on the node pair's
// session as on each apartment's: both take their times from these functions.

/** The first part of a message that node 'a' sends in parts of at most 4 KiB. */
function firstPart(): NatsFrame {
  const published: Uint8Array[] = [];
  new NatsPeer({ name: 'a', maxPayload: 4_096, publish: (b) => published.push(new Uint8Array(b)) }, 'b', 'ea.1').send(['t:big', 1, new Uint8Array(12_000)]);
  const frame = decodeFrame(published[0]!);
  if (typeof frame === 'string') throw new Error(frame);
  return frame;
}

describe('marshal/transports/parts-watch: how long a session holds the parts of an unfinished message', () => {
  it("is the host's whole heartbeat, capped at ten minutes whatever heartbeat the host declares", () => {
    expect(MAX_PARTS_MS).to.equal(600_000);
    expect(partsTimeMs(200, 10)).to.equal(2_000);
    expect(partsTimeMs(1_000, 10)).to.equal(10_000);
    expect(partsTimeMs(60_000, 10)).to.equal(600_000);
    // The most a host may declare (node-options.ts): 1000 h before.
    expect(partsTimeMs(3_600_000, 1_000)).to.equal(600_000);
  });

  it('looks twice within that time at least, and ends an unfinished message after four times that time', () => {
    for (const [periodMs, misses] of [[200, 10], [1_000, 10], [3_600_000, 1], [3_600_000, 1_000], [10, 1]] as const) {
      const partsMs = partsTimeMs(periodMs, misses);
      const { everyMs, maxLooks } = partsLooks(periodMs, partsMs);
      const label = `${periodMs} ms × ${misses}`;
      expect(everyMs, label).to.be.at.most(Math.max(10, partsMs / 2)).and.at.most(periodMs);
      // A stalled message ends at the first look after two looks without a part and partsMs without one.
      expect(partsMs + 2 * everyMs, label).to.be.at.most(2 * MAX_PARTS_MS);
      expect(maxLooks * everyMs, label).to.be.at.least(4 * partsMs).and.at.most(4 * MAX_PARTS_MS + everyMs);
    }
  });

  it("ends the session of a message whose parts stopped, at the watch's looks, and gives its bytes back", async () => {
    const budget = new ReassemblyBudget();
    const peer = new NatsPeer({ name: 'b', maxPayload: 4_096, publish: () => undefined, reassembly: budget }, 'a', 'ea.1');
    const gaps: string[] = [];
    peer.on('gap', (d) => gaps.push(d));
    peer.receive(firstPart());
    expect(budget.bytes).to.be.above(0);
    const stop = watchParts(peer, 10, 20);
    while (peer.connected) await new Promise((r) => setTimeout(r, 10));
    stop();
    expect(gaps[0]).to.match(/^\[malformed-frame\]/).and.contain('and then none for');
    expect(budget.bytes).to.equal(0);
  });

  it('calls back at each look with when its turn of the loop began, until stopped', async () => {
    const peer = new NatsPeer({ name: 'b', maxPayload: 4_096, publish: () => undefined }, 'a', 'ea.1');
    const looks: number[] = [];
    const stop = watchParts(peer, 10, 1_000, (began) => looks.push(began));
    while (looks.length < 3) await new Promise((r) => setTimeout(r, 10));
    stop();
    const seen = looks.length;
    // A look already on its way (setImmediate) may still land; none after it.
    await new Promise((r) => setTimeout(r, 50));
    expect(looks.length).to.be.at.most(seen + 1);
    expect(looks.every((t, i) => i === 0 || t >= looks[i - 1]!)).to.equal(true);
  });
});
