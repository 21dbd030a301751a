import { expect } from 'chai';
import { InvalidArgumentError, toChromeTrace, toHtmlTimeline, traceMark, type Trace, type TraceEvent } from '../../../lib/index.js';
import { startRuntime } from '../../fixtures/runtime-fixture.js';

const ev = (seq: number, apartment: number, kind: string, peer: number, callId: number, name: string): TraceEvent => ({ seq, time: 1000 + seq, kind, apartment, causality: 5, peer, callId, name, extra: 1 });

/** A call from the host (0) to apartment 1, answered; saved as JSON and read back, as a file would be. */
const saved = (): Trace => JSON.parse(JSON.stringify({
  lanes: [{ apartment: 0, name: 'main (0) · thread 0', thread: 0 }, { apartment: 1, name: 'ui (1) · thread 3', thread: 3 }],
  events: [ev(0, 0, 'Send', 1, 1, 'add'), ev(2, 1, 'Start', 0, 1, 'add'), ev(3, 1, 'End', 0, 1, 'add'), ev(4, 0, 'Reply', 1, 1, '')],
  dropped: 0,
  damaged: [],
})) as Trace;

describe('lib/trace: a trace that is not one', () => {
  it('is refused with InvalidArgumentError saying where, by both outputs, instead of a TypeError', () => {
    const broken: [unknown, RegExp][] = [
      [5, /the trace is number/],
      [{}, /trace\.lanes is not an array/],
      [{ ...saved(), events: 'none' }, /trace\.events is not an array/],
      [{ ...saved(), lanes: [{ apartment: 0 }] }, /trace\.lanes\[0\]/],
      [{ ...saved(), events: [{ ...saved().events[0], time: 'soon' }] }, /trace\.events\[0\]\.time/],
    ];
    for (const [trace, where] of broken) {
      for (const draw of [(t: Trace) => toHtmlTimeline(t), (t: Trace) => toChromeTrace(t)]) {
        let err: unknown;
        try {
          draw(trace as Trace);
        } catch (e) {
          err = e;
        }
        expect(err, String(where)).to.be.instanceOf(InvalidArgumentError);
        expect((err as Error).message).to.match(/^\[trace\]/).and.match(where);
      }
    }
  });

  it('cannot put markup into the page through a field drawn into an attribute', () => {
    const hostile = saved() as unknown as { lanes: { apartment: unknown }[]; events: { apartment: unknown }[] };
    const injected = '1"><script>alert(1)</script><x y="';
    hostile.lanes[1]!.apartment = injected;
    for (const e of hostile.events) if (e.apartment === 1) e.apartment = injected;
    expect(() => toHtmlTimeline(hostile as unknown as Trace)).to.throw(InvalidArgumentError, /trace\.lanes\[1\]/);
    expect(toHtmlTimeline(saved()), 'the same trace unchanged draws').to.contain('ui (1) · thread 3');
  });
});

describe('lib/trace: a trace with a mark whose value is not finite', () => {
  it('is drawn as runtime.trace() gave it, and as saved as JSON (traceMark takes any number)', async () => {
    const { rt } = await startRuntime({ trace: true });
    traceMark('ratio', 0 / 0);
    traceMark('ceiling', Infinity);
    const trace = rt.trace();
    const marks = trace.events.filter((e) => e.kind === 'Mark');
    expect(marks.map((e) => e.extra)).to.deep.equal([NaN, Infinity]);
    for (const t of [trace, JSON.parse(JSON.stringify(trace)) as Trace]) {
      expect(toHtmlTimeline(t)).to.contain('ratio');
      expect(toChromeTrace(t)).to.be.an('object');
    }
  });
});
