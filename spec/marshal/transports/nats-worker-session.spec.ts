import { expect } from 'chai';
import { checkSessionEnd, type DirectSessionEnd } from '../../../marshal/transports/nats-worker-session.js';

/** A session end as a node fills it in. */
function end(overrides: Partial<Record<keyof DirectSessionEnd, unknown>> = {}): unknown {
  return {
    id: 'e1.ab/1', host: 'a', node: 'b', subject: 'apartments.b.e2.a.e1.ab.1', reply: 'apartments.a.e1.b', servers: ['nats://127.0.0.1:4222'],
    counters: new SharedArrayBuffer(32), tickMs: 1_000, reassembly: new SharedArrayBuffer(4), reassemblyShare: new SharedArrayBuffer(4), partsMs: 10_000, ...overrides,
  };
}

describe("marshal/transports/nats-worker-session: an apartment's session end is checked before its thread uses it", () => {
  it('takes an end as a node fills it in', () => {
    expect(checkSessionEnd(end())).to.equal(undefined);
  });

  it("refuses an end without the node's allowance for parts or the host's share of it, or with a time for parts out of range", () => {
    expect(checkSessionEnd(end({ reassembly: undefined }))).to.contain('allowance for parts');
    expect(checkSessionEnd(end({ reassembly: new ArrayBuffer(4) }))).to.contain('allowance for parts');
    // The host's share of it, counted across the node's threads.
    for (const reassemblyShare of [undefined, new ArrayBuffer(4), new SharedArrayBuffer(2)]) expect(checkSessionEnd(end({ reassemblyShare }))).to.contain('share of the allowance for parts');
    for (const partsMs of [undefined, 0, Infinity, Number.NaN, '10']) expect(checkSessionEnd(end({ partsMs })), String(partsMs)).to.contain('time for parts');
  });
});
