import { expect } from 'chai';
import { TraceKind } from '../../../marshal/trace-hook.js';
import { createTraceRing, TraceRingReader, TraceRingWriter } from '../../../lib/trace/trace-ring.js';

describe('lib/trace: the shared ring', () => {
  it('hands over events in order with their names, and drops (and counts) what does not fit', () => {
    const sequence = new SharedArrayBuffer(4);
    const handle = createTraceRing(7, 4, sequence);
    const writer = new TraceRingWriter(handle);
    const reader = new TraceRingReader(handle);
    writer.record(TraceKind.Start, 3, 1, 10, 'add', 0);
    writer.record(TraceKind.End, 3, 1, 10, 'add', 1);
    writer.record(TraceKind.Send, 3, 2, 11, 4, 0);
    writer.record(TraceKind.Mark, -1, -1, -1, 'read', 42);
    writer.record(TraceKind.Mark, -1, -1, -1, 'dropped', 0);
    expect(reader.dropped).to.equal(1);
    const first = reader.drain();
    expect(first.map((e) => [e.kind, e.name, e.extra, e.apartment])).to.deep.equal([
      [TraceKind.Start, 'add', 0, 7], [TraceKind.End, 'add', 1, 7], [TraceKind.Send, '#4', 0, 7], [TraceKind.Mark, 'read', 42, 7],
    ]);
    expect(first.map((e) => e.seq)).to.deep.equal([0, 1, 2, 3]);
    // Draining made room; the sequence goes on (a dropped event took no number).
    writer.record(TraceKind.Mark, -1, -1, -1, 'write', 41);
    expect(reader.drain().map((e) => [e.name, e.seq])).to.deep.equal([['write', 4]]);
  });

  it('shares one sequence counter between rings', () => {
    const sequence = new SharedArrayBuffer(4);
    const a = new TraceRingWriter(createTraceRing(1, 8, sequence));
    const bHandle = createTraceRing(2, 8, sequence);
    const b = new TraceRingWriter(bHandle);
    a.record(TraceKind.Mark, -1, -1, -1, 'a', 0);
    b.record(TraceKind.Mark, -1, -1, -1, 'b', 0);
    expect(new TraceRingReader(bHandle).drain()[0]!.seq).to.equal(1);
  });
});
