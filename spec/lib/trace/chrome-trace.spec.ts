import { expect } from 'chai';
import { checkChromeTrace, toChromeTrace, type Trace, type TraceEvent } from '../../../lib/index.js';

const ev = (seq: number, apartment: number, kind: string, peer: number, callId: number, name: string, causality = 5): TraceEvent => ({ seq, time: 1000 + seq, kind, apartment, causality, peer, callId, name, extra: 1 });

/** A call from the host (0) to apartment 1, answered, then one refused. */
const trace: Trace = {
  lanes: [{ apartment: 0, name: 'main (0) · thread 0', thread: 0 }, { apartment: 1, name: 'ui (1) · thread 3', thread: 3 }],
  events: [
    ev(0, 0, 'Send', 1, 1, 'add'), ev(2, 1, 'Start', 0, 1, 'add'), ev(3, 1, 'End', 0, 1, 'add'), ev(4, 0, 'Reply', 1, 1, ''),
    ev(5, 0, 'Send', 1, 2, 'add', 6), ev(7, 1, 'Refuse', 0, 2, 'RPC_E_CALL_REJECTED', 6), ev(8, 0, 'Reply', 1, 2, '', 6),
  ],
  dropped: 0,
  damaged: [],
};

describe('lib/trace: Chrome trace-event JSON', () => {
  it('names a track per apartment and draws slices, an async span per call, flows both ways and a red refusal', () => {
    const doc = toChromeTrace(trace);
    expect(checkChromeTrace(doc)).to.deep.equal([]);
    const names = doc.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args!.name);
    expect(names).to.deep.equal(['main (0) · thread 0', 'ui (1) · thread 3']);
    expect(doc.traceEvents.filter((e) => e.ph === 'X' && e.name === 'add' && e.tid === 2)).to.have.length(1);
    expect(doc.traceEvents.filter((e) => e.ph === 'b').map((e) => e.name)).to.deep.equal(['add', 'add']);
    expect(doc.traceEvents.filter((e) => e.ph === 's').map((e) => e.name)).to.deep.equal(['call', 'return', 'call', 'return']);
    expect(doc.traceEvents.find((e) => e.ph === 'i' && e.cat === 'error')).to.include({ cname: 'terrible', tid: 2 });
  });

  it('reports what breaks the format: missing fields, unknown phases, unfinished flows and spans, unnamed threads, overlapping slices', () => {
    const problems = checkChromeTrace({
      traceEvents: [
        { name: 'x', ph: 'X', pid: 1, tid: 1, ts: 0, dur: 10 },
        { name: 'y', ph: 'X', pid: 1, tid: 1, ts: 5, dur: 1 },
        { name: 'f', ph: 's', pid: 1, tid: 1, ts: 1, id: 'a', cat: 'flow' },
        { name: 'b', ph: 'b', pid: 1, tid: 1, ts: 1, id: 'c', cat: 'call' },
        { name: 'q', ph: 'Q', pid: 1, tid: 1, ts: 1 },
        { ph: 'X', pid: 1, tid: 1, ts: 1, dur: 1 },
      ],
    });
    expect(problems.join('\n')).to.match(/overlaps/).and.match(/flow:flow:a is never finished/).and.match(/async:call:c is never finished/)
      .and.match(/unknown phase 'Q'/).and.match(/needs name, ph, pid and tid/).and.match(/thread 1 has events but no thread_name/);
    expect(checkChromeTrace({})).to.deep.equal(['traceEvents is not an array']);
  });
});
