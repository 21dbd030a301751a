// A trace as Chrome trace-event JSON (the format Perfetto and chrome://tracing open): one thread
// track per apartment, named like "ui (1) · thread 3"; complete ('X') run slices that never
// overlap on a track; async ('b'/'e') spans for the calls each apartment made; flow arrows
// ('s'/'f') from caller to callee and back; instant ('i') events for markers. Also the check the
// specs and the tour use that a document has the format's required fields and phases.
import type { Trace } from './trace-recorder.js';
import { buildTimeline, type TimePoint } from './timeline-model.js';

/** One trace event of the JSON format (the fields this exporter writes). */
export interface ChromeTraceEvent {
  name: string;
  ph: 'X' | 'b' | 'e' | 's' | 'f' | 'i' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  id?: string;
  bp?: 'e';
  s?: 't';
  cname?: string;
  args?: Record<string, unknown>;
}

const PID = 1;
/** Thread ids of the JSON: apartment id + 1 (so the main apartment is not tid 0). */
const tidOf = (apartment: number): number => apartment + 1;

/** Convert a trace into a JSON object Perfetto opens ({ traceEvents, displayTimeUnit }). */
export function toChromeTrace(trace: Trace): { traceEvents: ChromeTraceEvent[]; displayTimeUnit: 'ms' } {
  const model = buildTimeline(trace);
  const us = (p: TimePoint): number => Math.round((p.time - model.origin) * 1000 * 1000) / 1000;
  const out: ChromeTraceEvent[] = [{ name: 'process_name', ph: 'M', pid: PID, tid: 0, args: { name: 'apartment-runtime' } }];
  model.lanes.forEach((lane, i) => {
    out.push({ name: 'thread_name', ph: 'M', pid: PID, tid: tidOf(lane.apartment), args: { name: lane.name } });
    out.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid: tidOf(lane.apartment), args: { sort_index: i } });
  });
  // Where a flow end binds: the middle of the run slice that covers its point, if one does.
  const bindAt = (lane: number, p: TimePoint): number => {
    const slice = model.slices.find((s) => s.lane === lane && s.from.step <= p.step && p.step <= s.to.step);
    return slice ? (us(slice.from) + us(slice.to)) / 2 : us(p);
  };
  for (const s of model.slices) {
    out.push({ name: s.name, ph: 'X', cat: 'run', pid: PID, tid: tidOf(s.lane), ts: us(s.from), dur: Math.max(0, us(s.to) - us(s.from)), args: { causality: s.causality, steps: [s.from.step, s.to.step] } });
  }
  for (const c of model.calls) {
    out.push({ name: c.name, ph: 'b', cat: 'call', id: c.id, pid: PID, tid: tidOf(c.lane), ts: us(c.from), args: { causality: c.causality } });
    out.push({ name: c.name, ph: 'e', cat: 'call', id: c.id, pid: PID, tid: tidOf(c.lane), ts: us(c.to) });
  }
  for (const f of model.flows) {
    out.push({ name: f.direction, ph: 's', cat: 'flow', id: f.id, pid: PID, tid: tidOf(f.fromLane), ts: us(f.from), args: { causality: f.causality } });
    out.push({ name: f.direction, ph: 'f', bp: 'e', cat: 'flow', id: f.id, pid: PID, tid: tidOf(f.toLane), ts: Math.max(us(f.from), bindAt(f.toLane, f.to)) });
  }
  for (const m of model.markers) {
    out.push({
      name: m.name ? `${m.kind} ${m.name}` : m.kind, ph: 'i', s: 't', cat: m.error ? 'error' : 'marker', pid: PID, tid: tidOf(m.lane), ts: us(m.at),
      ...(m.error ? { cname: 'terrible' } : {}), args: { causality: m.causality, value: m.value, step: m.at.step },
    });
  }
  return { traceEvents: out, displayTimeUnit: 'ms' };
}

const PHASES = new Set(['X', 'B', 'E', 'b', 'e', 'n', 's', 't', 'f', 'i', 'I', 'M', 'C']);

/**
 * Problems with a trace-event document, empty when it is fine: every event has name, ph, pid and
 * tid, a known phase, a numeric ts (metadata aside), X a duration ≥ 0; async and flow events an
 * id; every 'b' its 'e' and every 's' its 'f' (same cat and id); every thread with events named;
 * on each thread run slices do not overlap and timestamps of slices never go backwards.
 */
export function checkChromeTrace(doc: unknown): string[] {
  const problems: string[] = [];
  const events = (doc as { traceEvents?: unknown })?.traceEvents;
  if (!Array.isArray(events)) return ['traceEvents is not an array'];
  const named = new Set<number>();
  const used = new Set<number>();
  const opened = new Map<string, number>();
  const lastSliceEnd = new Map<number, number>();
  for (const [i, raw] of events.entries()) {
    const e = raw as ChromeTraceEvent;
    if (typeof e.name !== 'string' || typeof e.ph !== 'string' || typeof e.pid !== 'number' || typeof e.tid !== 'number') {
      problems.push(`event ${i}: needs name, ph, pid and tid`);
      continue;
    }
    if (!PHASES.has(e.ph)) problems.push(`event ${i}: unknown phase '${e.ph}'`);
    if (e.ph === 'M') {
      if (e.name === 'thread_name' && typeof e.args?.name === 'string' && e.args.name !== '') named.add(e.tid);
      continue;
    }
    used.add(e.tid);
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts)) problems.push(`event ${i}: needs a numeric ts`);
    if (e.ph === 'X') {
      if (typeof e.dur !== 'number' || e.dur < 0) problems.push(`event ${i}: X needs dur ≥ 0`);
      const last = lastSliceEnd.get(e.tid) ?? -Infinity;
      if (e.ts! < last - 1e-6) problems.push(`event ${i}: slice '${e.name}' overlaps the one before it on thread ${e.tid}`);
      lastSliceEnd.set(e.tid, e.ts! + (e.dur ?? 0));
    }
    if (e.ph === 'b' || e.ph === 'e' || e.ph === 's' || e.ph === 'f') {
      if (typeof e.id !== 'string' && typeof e.id !== 'number') problems.push(`event ${i}: ${e.ph} needs an id`);
      const key = `${e.ph === 'b' || e.ph === 'e' ? 'async' : 'flow'}:${e.cat}:${e.id}`;
      if (e.ph === 'b' || e.ph === 's') opened.set(key, (opened.get(key) ?? 0) + 1);
      else {
        const n = opened.get(key) ?? 0;
        if (n === 0) problems.push(`event ${i}: '${e.ph}' ${key} has no beginning`);
        else opened.set(key, n - 1);
      }
    }
  }
  for (const [key, n] of opened) if (n > 0) problems.push(`${key} is never finished`);
  for (const tid of used) if (!named.has(tid)) problems.push(`thread ${tid} has events but no thread_name`);
  return problems;
}
