import { expect } from 'chai';
import { checkSessionEnd, END_REASON_OFFSET, readEndReason, SESSION_COUNTERS_BYTES, type DirectSessionEnd } from '../../../marshal/transports/nats-worker-session.js';

/** A session end as a node fills it in. */
function end(overrides: Partial<Record<keyof DirectSessionEnd, unknown>> = {}): unknown {
  return {
    id: 'e1.ab/1', host: 'a', node: 'b', subject: 'apartments.b.e2.a.e1.ab.1', reply: 'apartments.a.e1.b', servers: ['nats://127.0.0.1:4222'],
    counters: new SharedArrayBuffer(SESSION_COUNTERS_BYTES), tickMs: 1_000, reassembly: new SharedArrayBuffer(4), reassemblyShare: new SharedArrayBuffer(4), partsMs: 10_000, ...overrides,
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

  it('refuses counters without room for the reason the session ended', () => {
    expect(checkSessionEnd(end({ counters: new SharedArrayBuffer(32) }))).to.contain('counters are missing');
  });
});

describe("marshal/transports/nats-worker-session: why an apartment's session ended, as its node reads it", () => {
  /** Counters whose reason slot says `length` and holds `text`. */
  function counters(length: number, text: string): SharedArrayBuffer {
    const memory = new SharedArrayBuffer(SESSION_COUNTERS_BYTES);
    new Int32Array(memory, END_REASON_OFFSET, 1)[0] = length;
    new Uint8Array(memory, END_REASON_OFFSET + 4).set(new TextEncoder().encode(text).subarray(0, SESSION_COUNTERS_BYTES - END_REASON_OFFSET - 4));
    return memory;
  }

  it('reads nothing when the thread said nothing, or gave a length the slot cannot hold', () => {
    expect(readEndReason(counters(0, ''))).to.equal(undefined);
    for (const length of [-1, 513, 2 ** 31 - 1]) expect(readEndReason(counters(length, 'x'.repeat(512))), String(length)).to.equal(undefined);
  });

  it("reads the thread's words as one line: another node's code runs there and may have written them", () => {
    const text = "[link-gap] lost\n[node-host-gone] node 'b' sent no heartbeat\u001b[2J";
    expect(readEndReason(counters(new TextEncoder().encode(text).length, text))).to.equal("[link-gap] lost [node-host-gone] node 'b' sent no heartbeat [2J");
  });
});
