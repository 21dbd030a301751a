import { expect } from 'chai';
import { TraceKind } from '../../../marshal/trace-hook.js';
import { createTraceRing, TraceRingReader, TraceRingWriter, type RawTraceEvent } from '../../../lib/trace/trace-ring.js';

function fields(events: readonly RawTraceEvent[]): unknown[][] {
  return events.map((e) => [e.kind, e.causality, e.peer, e.callId, e.name, e.extra, e.apartment]);
}

describe('lib/trace: the shared ring', () => {
  it('hands over events in order with their names, and drops (and counts) what does not fit', () => {
    const handle = createTraceRing(7, 1, new SharedArrayBuffer(4));
    const writer = new TraceRingWriter(handle);
    const reader = new TraceRingReader(handle);
    writer.record(TraceKind.Start, 3, 1, 10, 'add', 0);
    writer.record(TraceKind.End, 3, 1, 10, 'add', 1);
    writer.record(TraceKind.Send, 3, 2, 11, 4, 0);
    let marks = 0;
    while (reader.dropped === 0) writer.record(TraceKind.Mark, -1, -1, -1, 'read', 42 + marks++);
    const first = reader.drain();
    expect(first.slice(0, 3).map((e) => [e.kind, e.name, e.extra, e.apartment])).to.deep.equal([
      [TraceKind.Start, 'add', 0, 7], [TraceKind.End, 'add', 1, 7], [TraceKind.Send, '#4', 0, 7],
    ]);
    // Everything but the one event that found the ring full arrived, numbered without gaps.
    expect(first).to.have.length(3 + marks - 1);
    expect(first.map((e) => e.seq)).to.deep.equal(first.map((_, i) => i));
    expect(first.slice(3).map((e) => e.extra)).to.deep.equal(Array.from({ length: marks - 1 }, (_, i) => 42 + i));
    // Draining made room; the sequence goes on (the dropped event took no number).
    writer.record(TraceKind.Mark, -1, -1, -1, 'write', 41);
    expect(reader.drain().map((e) => [e.name, e.seq])).to.deep.equal([['write', first.length]]);
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

  it('keeps every field exact through the compact records, across many wraps of the ring', () => {
    const handle = createTraceRing(3, 32, new SharedArrayBuffer(4));
    const writer = new TraceRingWriter(handle);
    const reader = new TraceRingReader(handle);
    const cases: [number, number, number, number, number][] = [
      // kind, causality (apartment id in the high part), peer, call id, extra
      [TraceKind.Send, 5 * 0x1_0000_0000 + 123_456, 1, 0x8000_0001, 0.125],
      [TraceKind.Reply, -1, 1, 0x8000_0001, 1],
      [TraceKind.Start, 5 * 0x1_0000_0000 + 123_456, 16_777_214, 2 ** 53 - 1, Number.MAX_SAFE_INTEGER],
      [TraceKind.End, 5 * 0x1_0000_0000 + 123_456, -1, -(2 ** 53) + 1, -7],
      [TraceKind.Refuse, 2 ** 60, -1, 1.5, Number.NaN],
      [TraceKind.Mark, Number.NaN, 0, Number.POSITIVE_INFINITY, -0.5],
      [TraceKind.Export, 0, 0, 0, 2 ** 52 + 2],
    ];
    const names = ['add', 3, '', 'a longer name, ünïcödé', 0, 'add', 'x'];
    const seen: RawTraceEvent[] = [];
    let times = -Infinity;
    // A ring of 512 bytes: the cases go round it again and again, drained after each round.
    for (let round = 0; round < 40; round++) {
      for (const [i, [kind, causality, peer, callId, extra]] of cases.entries()) writer.record(kind as never, causality, peer, callId, names[i]!, extra);
      const got = reader.drain();
      expect(reader.dropped, `round ${round}`).to.equal(0);
      expect(got.every((e) => e.time >= times && Math.abs(e.time - Date.now()) < 60_000)).to.equal(true);
      times = got[got.length - 1]!.time;
      seen.push(...got);
    }
    const expected = cases.map(([kind, causality, peer, callId, extra], i) => [kind, causality, peer, callId, typeof names[i] === 'number' ? `#${names[i]}` : names[i], extra, 3]);
    expect(fields(seen)).to.deep.equal(Array.from({ length: 40 }, () => expected).flat());
    expect(seen.map((e) => e.seq)).to.deep.equal(seen.map((_, i) => i));
    expect(reader.malformed).to.equal(false);
  });

  it('stops reading a ring whose records make no sense, without throwing or inventing events', () => {
    const handle = createTraceRing(4, 1, new SharedArrayBuffer(4));
    const writer = new TraceRingWriter(handle);
    const reader = new TraceRingReader(handle);
    writer.record(TraceKind.Start, 1, 1, 1, 'ok', 0);
    expect(reader.drain()).to.have.length(1);
    // Damage: a record of no kind, then a varint that never ends, published as written.
    const bytes = new Uint8Array(handle.events);
    const header = new Int32Array(handle.header);
    const at = Atomics.load(header, 0);
    bytes.set([0x05, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], at & (bytes.length - 1));
    Atomics.store(header, 0, at + 11);
    expect(reader.drain()).to.deep.equal([]);
    expect(reader.malformed).to.equal(true);
    writer.record(TraceKind.End, 1, 1, 1, 'ok', 0);
    expect(reader.drain(), 'nothing after the damage is read').to.deep.equal([]);
    // A header claiming more than the ring holds reads nothing at all.
    const other = createTraceRing(5, 1, new SharedArrayBuffer(4));
    Atomics.store(new Int32Array(other.header), 0, 1 << 20);
    expect(new TraceRingReader(other).drainRaw()).to.equal(undefined);
  });
});
