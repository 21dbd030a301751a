import { expect } from 'chai';
import diagnostics from 'node:diagnostics_channel';
import { DiagnosticsChannels, type DiagnosticsMessage, type TraceEvent } from '../../../lib/index.js';
import type { TraceProbe } from '../../fixtures/trace-probe.js';
import { eventually, startRuntime } from '../../fixtures/runtime-fixture.js';

function listen(name: string, into: DiagnosticsMessage[]): () => void {
  const onMessage = (m: unknown): void => void into.push(m as DiagnosticsMessage);
  diagnostics.subscribe(name, onMessage);
  return () => diagnostics.unsubscribe(name, onMessage);
}

describe('lib/trace: diagnostics channels', () => {
  it('publishes the calls this thread serves, start and end, with the chain and the caller', async () => {
    const starts: DiagnosticsMessage[] = [];
    const ends: DiagnosticsMessage[] = [];
    const stop = [listen(DiagnosticsChannels.callStart, starts), listen(DiagnosticsChannels.callEnd, ends)];
    try {
      const { rt } = await startRuntime({ diagnostics: true });
      rt.registerClass('TraceProbe', { module: new URL('../../fixtures/trace-probe.js', import.meta.url), export: 'TraceProbe' });
      const apt = await rt.createApartment({ name: 'probed' });
      const probe = await apt.createObject<TraceProbe>('TraceProbe');
      // The probe calls the host's function back: the host thread serves that call.
      expect(await probe.callBack((x: number) => x + 1, 1)).to.equal(2);
      const served = starts.filter((m) => m.peer === apt.id && !m.name.includes('.'));
      expect(served).to.have.length(1);
      expect(served[0]).to.include({ apartment: 0 });
      expect(ends.find((m) => m.id === served[0]!.id && m.peer === apt.id)).to.include({ detail: 1, causality: served[0]!.causality });
      // Diagnostics alone record no trace.
      expect(rt.trace().events).to.deep.equal([]);
    } finally {
      for (const s of stop) s();
    }
  });
});

describe('lib/trace: typed runtime events', () => {
  it('emits call-start, call-end and object-created for what the apartments recorded', async () => {
    const { rt } = await startRuntime({ trace: true });
    const seen: TraceEvent[] = [];
    rt.on('call-start', (e) => seen.push(e));
    rt.on('call-end', (e) => seen.push(e));
    rt.on('object-created', (e) => seen.push(e));
    rt.registerClass('TraceProbe', { module: new URL('../../fixtures/trace-probe.js', import.meta.url), export: 'TraceProbe' });
    const apt = await rt.createApartment({ name: 'probed' });
    const probe = await apt.createObject<TraceProbe>('TraceProbe');
    await probe.sinkInstalled();
    rt.trace();
    await eventually(() => {
      expect(seen.some((e) => e.kind === 'Export' && e.name === 'TraceProbe' && e.apartment === apt.id)).to.equal(true);
      expect(seen.some((e) => e.kind === 'Start' && e.name === 'sinkInstalled')).to.equal(true);
      expect(seen.some((e) => e.kind === 'End' && e.name === 'sinkInstalled')).to.equal(true);
    });
  });
});
