import { expect } from 'chai';
import { InvalidArgumentError, Runtime, type Remote } from '../../../lib/index.js';
import { activeTrace } from '../../../marshal/trace-hook.js';
import type { TraceProbe } from '../../fixtures/trace-probe.js';
import { startRuntime } from '../../fixtures/runtime-fixture.js';
import { expectTraceInvariants } from './trace-invariants.js';

async function probeIn(rt: Runtime, options: { trace?: boolean } = {}): Promise<Remote<TraceProbe>> {
  rt.registerClass('TraceProbe', { module: new URL('../../fixtures/trace-probe.js', import.meta.url), export: 'TraceProbe' });
  return (await rt.createApartment({ name: 'probed', ...options })).createObject<TraceProbe>('TraceProbe');
}

describe('lib/trace: off by default', () => {
  it('installs no sink in any thread and records no event', async () => {
    const { rt } = await startRuntime();
    const probe = await probeIn(rt);
    expect(await probe.callBack((x: number) => x + 1, 1)).to.equal(2);
    expect(activeTrace, 'host thread sink').to.equal(undefined);
    expect(await probe.sinkInstalled(), 'worker thread sink').to.equal(false);
    const trace = rt.trace();
    expect(trace.events).to.deep.equal([]);
    expect(trace.lanes).to.deep.equal([]);
  });
});

describe('lib/trace: on for the runtime', () => {
  it('records calls both ways on lanes named after apartment and thread, in one global order', async () => {
    const { rt } = await startRuntime({ trace: true });
    const probe = await probeIn(rt);
    expect(await probe.sinkInstalled()).to.equal(true);
    expect(await probe.callBack((x: number) => x * 2, 21)).to.equal(42);
    const trace = rt.trace();
    expect(trace.lanes.map((l) => l.name)).to.include.members(['main (0) · thread 0']);
    expect(trace.lanes.some((l) => /^probed \(\d+\) · thread \d+$/.test(l.name))).to.equal(true);
    const probed = trace.lanes.find((l) => l.name.startsWith('probed'))!.apartment;
    const onProbe = trace.events.filter((e) => e.apartment === probed);
    const at = (kind: string, name?: string): number => onProbe.findIndex((e) => e.kind === kind && (name === undefined || e.name === name));
    // The host calls callBack; inside it the probe calls the host's function, then callBack ends.
    expect(at('Start', 'callBack')).to.be.at.least(0);
    const sendBack = onProbe.findIndex((e, i) => i > at('Start', 'callBack') && e.kind === 'Send' && e.peer === 0);
    expect(sendBack).to.be.greaterThan(at('Start', 'callBack'));
    expect(at('End', 'callBack')).to.be.greaterThan(sendBack);
    const start = trace.events.find((e) => e.apartment === probed && e.kind === 'Start' && e.name === 'callBack')!;
    const nested = trace.events.find((e) => e.apartment === 0 && e.kind === 'Start' && e.peer === probed)!;
    expect(nested.causality, 'the callback runs in the chain of the call that made it').to.equal(start.causality);
    expectTraceInvariants(trace);
  });
});

describe('lib/trace: on for one apartment', () => {
  it('traces that apartment only, leaving the host thread without a sink', async () => {
    const { rt } = await startRuntime();
    const probe = await probeIn(rt, { trace: true });
    expect(await probe.sinkInstalled()).to.equal(true);
    expect(activeTrace).to.equal(undefined);
    await probe.callBack((x: number) => x, 1);
    const trace = rt.trace();
    expect(trace.lanes.map((l) => l.name)).to.have.length(1);
    expect(trace.events.every((e) => e.apartment === trace.lanes[0]!.apartment)).to.equal(true);
    expect(trace.events.some((e) => e.kind === 'Start' && e.name === 'callBack')).to.equal(true);
  });
});

describe('lib/trace: switches that are not true or false', () => {
  it('refuses them with InvalidArgumentError, for the runtime and for one apartment, before anything starts', async () => {
    // Before: any trace but undefined and false (null, 0, 'false') turned tracing on, and a
    // diagnostics of 'true' left it off.
    const bad: [unknown, unknown, string][] = [[null, undefined, 'trace'], [0, undefined, 'trace'], ['false', undefined, 'trace'], [undefined, 'true', 'diagnostics'], [undefined, 1, 'diagnostics']];
    for (const [trace, diagnostics, parameter] of bad) {
      const error = await Runtime.start({ trace: trace as never, diagnostics: diagnostics as never }).then(async (started) => {
        await started.close();
        return started;
      }, (e: unknown) => e);
      expect(error, `${String(trace)} ${String(diagnostics)}`).to.be.instanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).parameter).to.equal(parameter);
    }
    const { rt } = await startRuntime();
    const refused = await rt.createApartment({ trace: 'false' as never }).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(InvalidArgumentError);
    expect((refused as Error).message).to.match(/^\[trace\] trace must be true or false/);
    expect(rt.apartments, 'nothing was started').to.have.length(0);
    const probe = await probeIn(rt, { trace: false });
    expect(await probe.sinkInstalled()).to.equal(false);
    expect(rt.trace().events).to.deep.equal([]);
  });
});

describe('lib/trace: ring capacity', () => {
  it('refuses a capacity that is not a whole number of events in range, before anything starts', async () => {
    for (const capacity of [0, -1, 1.5, Number.NaN, 2 ** 23, '64' as unknown as number]) {
      const error = await Runtime.start({ trace: { capacity } }).catch((e: unknown) => e);
      expect(error, String(capacity)).to.be.instanceOf(InvalidArgumentError);
      expect((error as Error).message).to.match(/^\[trace\] trace\.capacity/);
    }
    const { rt } = await startRuntime({ trace: { capacity: 4 } });
    const probe = await probeIn(rt);
    await probe.marks(200);
    const trace = rt.trace();
    expect(trace.dropped, 'a ring of four events drops what one turn records beyond it').to.be.greaterThan(0);
    const marks = trace.events.filter((e) => e.kind === 'Mark');
    expect(marks.length).to.be.greaterThan(0);
    expect(marks.length + trace.dropped).to.be.at.least(200);
    // The host drains the ring every 10 ms while the apartment writes, so on a slow machine a drain
    // can land mid-turn and make room again: what is kept is the first marks, then runs of later
    // ones, never one out of order or twice.
    const kept = marks.map((e) => e.extra as number);
    expect(kept[0], 'the first one is kept').to.equal(0);
    expect(kept.every((n, i) => i === 0 || n > kept[i - 1]!), `in order: ${kept.join(',')}`).to.equal(true);
  });
});
