import { expect } from 'chai';
import { decodeFrame, NatsPeer, type NatsFrame } from '../../../marshal/transports/nats-peer.js';
import { ReassemblyBudget } from '../../../marshal/transports/reassembly-budget.js';

// The parts of a message larger than one NATS message are held until the last comes. A node that
// begins such a message and never finishes it must not make its receiver hold the parts for good,
// and hosts that each begin one must not make a node hold 64 MiB per session: unfinished parts end
// their session two heartbeats on, and all sessions of a node share one allowance.

/** The frames of one message of `bytes` bytes that node 'a' sends in parts of at most 4 KiB. */
function partsOf(bytes: number, session = 'ea.1'): NatsFrame[] {
  const published: Uint8Array[] = [];
  const sender = new NatsPeer({ name: 'a', maxPayload: 4_096, publish: (b) => published.push(new Uint8Array(b)) }, 'b', session);
  sender.send(['t:big', 1, new Uint8Array(bytes).fill(7)]);
  return published.map((b) => {
    const frame = decodeFrame(b);
    if (typeof frame === 'string') throw new Error(frame);
    return frame;
  });
}

/** Node b's side of session `session` with node 'a', drawing on `budget`; what it emitted. */
function receiver(budget: ReassemblyBudget, session = 'ea.1'): { peer: NatsPeer; messages: unknown[]; events: string[] } {
  const peer = new NatsPeer({ name: 'b', maxPayload: 4_096, publish: () => undefined, reassembly: budget }, 'a', session);
  const messages: unknown[] = [];
  const events: string[] = [];
  peer.on('message', (m) => messages.push(m));
  peer.on('gap', (d) => events.push(d));
  return { peer, messages, events };
}

describe('marshal/transports/nats-peer: a parted message left unfinished ends its session two heartbeats on', () => {
  it('ends it with [malformed-frame] at the second heartbeat after its first part, and gives its bytes back', () => {
    const budget = new ReassemblyBudget();
    const parts = partsOf(12_000);
    expect(parts.length).to.be.at.least(3);
    const b = receiver(budget);
    b.peer.receive(parts[0]!);
    b.peer.receive(parts[1]!);
    expect(budget.bytes, 'the parts held draw on the allowance').to.be.above(0);
    b.peer.confirm(2);
    expect(b.peer.connected, 'one heartbeat on').to.equal(true);
    b.peer.confirm(2);
    expect(b.peer.connected).to.equal(false);
    expect(b.events).to.have.length(1);
    expect(b.events[0]).to.match(/^\[malformed-frame\]/).and.contain(`only 2 of them`);
    expect(b.messages).to.deep.equal([]);
    expect(budget.bytes, 'given back').to.equal(0);
  });

  it('keeps a session whose parts came within a heartbeat, and one that sends many parted messages across heartbeats', () => {
    const budget = new ReassemblyBudget();
    const b = receiver(budget);
    let seq = 0;
    for (let round = 0; round < 5; round++) {
      const parts = partsOf(12_000).map((p) => ({ ...p, seq: seq++ }));
      b.peer.receive(parts[0]!);
      // A heartbeat between the first part and the rest (they were on their way when it came).
      b.peer.confirm(seq);
      for (const part of parts.slice(1)) b.peer.receive(part);
      b.peer.confirm(seq);
    }
    expect(b.events).to.deep.equal([]);
    expect(b.messages).to.have.length(5);
    expect(budget.bytes).to.equal(0);
  });
});

describe("marshal/transports/nats-peer: a node's sessions share one allowance for parts", () => {
  it('ends the session whose part would pass it with [node-busy], and the others put their messages together', () => {
    const budget = new ReassemblyBudget(undefined, 20_000);
    const first = receiver(budget, 'ea.1');
    const second = receiver(budget, 'ea.2');
    const firstParts = partsOf(12_000, 'ea.1');
    const secondParts = partsOf(12_000, 'ea.2');
    for (const part of firstParts.slice(0, -1)) first.peer.receive(part);
    for (const part of secondParts) second.peer.receive(part);
    expect(second.peer.connected).to.equal(false);
    expect(second.events[0]).to.match(/^\[node-busy\]/).and.contain('20000 bytes');
    first.peer.receive(firstParts.at(-1)!);
    expect(first.events).to.deep.equal([]);
    expect((first.messages[0] as [string, number, Uint8Array])[2]).to.deep.equal(new Uint8Array(12_000).fill(7));
    expect(budget.bytes, 'all given back').to.equal(0);
  });

  it('gives back the parts of a session that ends for another reason', () => {
    const budget = new ReassemblyBudget();
    const b = receiver(budget);
    b.peer.receive(partsOf(12_000)[0]!);
    expect(budget.bytes).to.be.above(0);
    b.peer.disconnect();
    expect(budget.bytes).to.equal(0);
  });
});

describe("marshal/transports/nats-peer: one sender's sessions hold at most half of a node's allowance for parts", () => {
  /** Node b's side of session `session` with node `from`, drawing on `allowance` and the sender's `share`. */
  function sharing(allowance: ReassemblyBudget, share: SharedArrayBuffer, session: string): ReturnType<typeof receiver> {
    return receiver(new ReassemblyBudget(allowance.memory, allowance.limit, undefined, share), session);
  }

  it('ends the session whose part would pass its sender\'s share with [node-busy] naming the share, and another sender\'s message goes through', () => {
    const allowance = new ReassemblyBudget(undefined, 40_000);
    const mallory = new SharedArrayBuffer(4);
    const first = sharing(allowance, mallory, 'ea.1');
    const second = sharing(allowance, mallory, 'ea.2');
    // 12 000 bytes each, in parts of about 4 KiB: the first holds all but its last part.
    const firstParts = partsOf(12_000, 'ea.1');
    for (const part of firstParts.slice(0, -1)) first.peer.receive(part);
    for (const part of partsOf(12_000, 'ea.2')) second.peer.receive(part);
    expect(second.peer.connected, 'past the share of 20 000 bytes').to.equal(false);
    expect(second.events[0]).to.match(/^\[node-busy\]/).and.contain('its share (half)').and.contain('20000 bytes').and.contain('allowance of 40000');
    expect(first.peer.connected, 'the session that held its share goes on').to.equal(true);
    // Another sender's session draws on the half that is left.
    const other = sharing(allowance, new SharedArrayBuffer(4), 'ec.1');
    for (const part of partsOf(12_000, 'ec.1')) other.peer.receive(part);
    expect(other.events).to.deep.equal([]);
    expect(other.messages).to.have.length(1);
    first.peer.disconnect();
    expect(allowance.bytes, 'all given back').to.equal(0);
    expect(Atomics.load(new Int32Array(mallory), 0), "and the sender's share").to.equal(0);
  });

  it('refuses a take past the share without taking from the allowance, and one past the allowance without taking from the share', () => {
    const allowance = new ReassemblyBudget(undefined, 10_000);
    const share = new ReassemblyBudget(allowance.memory, allowance.limit, undefined, new SharedArrayBuffer(4));
    expect(share.shareLimit).to.equal(5_000);
    expect(share.take(4_000)).to.equal('taken');
    expect(share.take(2_000)).to.equal('share-full');
    expect([share.bytes, share.shareBytes]).to.deep.equal([4_000, 4_000]);
    expect(allowance.take(5_500)).to.equal('taken');
    expect(share.take(1_000)).to.equal('node-full');
    expect([share.bytes, share.shareBytes]).to.deep.equal([9_500, 4_000]);
    share.give(4_000);
    allowance.give(5_500);
    expect([share.bytes, share.shareBytes]).to.deep.equal([0, 0]);
  });

  it("gives a thread's held bytes back to the share too when the thread ends without running", () => {
    const main = new ReassemblyBudget(undefined, undefined, undefined, new SharedArrayBuffer(4));
    const slot = new Int32Array(new SharedArrayBuffer(4));
    const thread = new ReassemblyBudget(main.memory, main.limit, slot, main.share);
    expect(thread.take(7_000)).to.equal('taken');
    expect(main.shareBytes).to.equal(7_000);
    main.giveAll(slot);
    expect([main.bytes, main.shareBytes]).to.deep.equal([0, 0]);
  });
});

describe('marshal/transports/nats-peer: an apartment session ends a parted message its host stops sending', () => {
  it('ends it once two periods in a row brought no part and none came for the allowed time, and gives its bytes back', () => {
    const budget = new ReassemblyBudget();
    const b = receiver(budget);
    const parts = partsOf(12_000);
    b.peer.receive(parts[0]!);
    const began = Date.now();
    b.peer.expireParts(began + 5_000, 2_000, 100);
    expect(b.peer.connected, 'the first look: a part came since the last').to.equal(true);
    b.peer.expireParts(began + 5_000, 2_000, 100);
    expect(b.peer.connected, 'one look without a part').to.equal(true);
    b.peer.expireParts(began + 5_000, 2_000, 100);
    expect(b.peer.connected).to.equal(false);
    expect(b.events[0]).to.match(/^\[malformed-frame\]/).and.contain('and then none for');
    expect(budget.bytes).to.equal(0);
  });

  it('keeps a message whose parts come late but come: after a long synchronous call of its thread, the first look sees parts read since', () => {
    const b = receiver(new ReassemblyBudget());
    const parts = partsOf(12_000);
    b.peer.receive(parts[0]!);
    b.peer.expireParts(Date.now(), 2_000, 100);
    // The thread was busy for a minute; the poll phase after it read the next part.
    b.peer.receive(parts[1]!);
    b.peer.expireParts(Date.now() - 60_000, 2_000, 100);
    b.peer.expireParts(Date.now(), 2_000, 100);
    expect(b.peer.connected, 'no two looks in a row without a part and its time passed').to.equal(true);
    for (const part of parts.slice(2)) b.peer.receive(part);
    expect(b.messages).to.have.length(1);
  });

  it('ends a message that a part now and then keeps unfinished past the allowed number of periods', () => {
    const b = receiver(new ReassemblyBudget());
    const parts = partsOf(40_000);
    let next = 0;
    for (let check = 0; check < 5 && b.peer.connected; check++) {
      b.peer.receive(parts[next++]!);
      b.peer.expireParts(Date.now(), 2_000, 4);
    }
    expect(b.peer.connected).to.equal(false);
    expect(b.events[0]).to.match(/^\[malformed-frame\]/).and.contain('after 4 periods');
  });

  it('leaves a session alone that holds no parts, however late', () => {
    const b = receiver(new ReassemblyBudget());
    b.peer.expireParts(Date.now() + 3_600_000, 10, 1);
    expect(b.peer.connected).to.equal(true);
  });
});

describe('marshal/transports/reassembly-budget: budgets on one memory share one allowance', () => {
  it('refuses a take past the limit whichever budget made the earlier ones, and counts gives from any', () => {
    const first = new ReassemblyBudget(undefined, 10_000);
    const second = new ReassemblyBudget(first.memory, 10_000);
    expect(first.take(6_000)).to.equal('taken');
    expect(second.take(6_000), 'past the shared limit').to.equal('node-full');
    expect(second.take(4_000)).to.equal('taken');
    expect(first.bytes).to.equal(10_000);
    first.give(4_000);
    second.give(6_000);
    expect(second.bytes).to.equal(0);
  });
});

describe('marshal/transports/reassembly-budget: what a thread held is given back when it ends without running', () => {
  it('counts what a budget holds in its own slot too, and giveAll returns it to the shared allowance', () => {
    const shared = new ReassemblyBudget();
    const slot = new Int32Array(new SharedArrayBuffer(4));
    const threads = new ReassemblyBudget(shared.memory, undefined, slot);
    expect(threads.take(5_000)).to.equal('taken');
    expect(threads.take(3_000)).to.equal('taken');
    threads.give(3_000);
    expect(Atomics.load(slot, 0)).to.equal(5_000);
    // The thread is terminated holding 5 000 bytes; the thread that ended it gives them back.
    shared.giveAll(slot);
    expect(shared.bytes).to.equal(0);
    expect(Atomics.load(slot, 0)).to.equal(0);
  });

  it('refuses a limit its Int32 count cannot hold', () => {
    expect(() => new ReassemblyBudget(undefined, 2 ** 31)).to.throw(RangeError, /\[reassembly\]/);
  });
});
