// A merged trace turned into what a timeline draws: per lane, run slices that never overlap
// (a call runs from its start, or from a reply it awaited, until the next thing its thread
// records), markers (refusals and faults in red, reads, writes, locks, objects), async spans for
// the calls a lane made, and flows from caller to callee and back. Both exporters (Chrome trace
// JSON, the HTML page) draw this model, so they agree. Pure: no I/O.
import type { Trace, TraceEvent, TraceLane } from './trace-recorder.js';
import { checkTrace } from './trace-shape.js';

/** A point on a lane: wall-clock ms (never going backwards on its lane) and global step. */
export interface TimePoint {
  readonly time: number;
  readonly step: number;
}

export interface RunSlice {
  readonly lane: number;
  readonly name: string;
  readonly causality: number;
  readonly from: TimePoint;
  readonly to: TimePoint;
}

export interface Marker {
  readonly lane: number;
  readonly kind: string;
  readonly name: string;
  readonly causality: number;
  readonly value: number;
  readonly at: TimePoint;
  /** Refusals and faults: drawn red. */
  readonly error: boolean;
}

/** A call a lane made, from leaving to its answer. */
export interface CallSpan {
  readonly id: string;
  readonly lane: number;
  readonly name: string;
  readonly causality: number;
  readonly from: TimePoint;
  readonly to: TimePoint;
}

/** An arrow from one lane to another: a call arriving, or its answer going back. */
export interface Flow {
  readonly id: string;
  readonly direction: 'call' | 'return';
  readonly causality: number;
  readonly fromLane: number;
  readonly from: TimePoint;
  readonly toLane: number;
  readonly to: TimePoint;
}

export interface TimelineModel {
  readonly lanes: readonly TraceLane[];
  readonly slices: readonly RunSlice[];
  readonly markers: readonly Marker[];
  readonly calls: readonly CallSpan[];
  readonly flows: readonly Flow[];
  /** The earliest time, the origin of relative times. */
  readonly origin: number;
  /** Number of steps (events). */
  readonly steps: number;
}

const REOPENS = new Set(['Mark', 'Export', 'Release', 'LockAcquire', 'LockRelease']);
const MARKED = new Set(['Refuse', 'Fault', 'Restart', 'Mark', 'Export', 'Release', 'LockAcquire', 'LockRelease', 'Queue']);

/** Build the model of `trace`. */
export function buildTimeline(given: Trace): TimelineModel {
  const trace = checkTrace(given);
  const lanes = trace.lanes.filter((l) => trace.events.some((e) => e.apartment === l.apartment));
  const known = new Set(lanes.map((l) => l.apartment));
  const events = trace.events.filter((e) => known.has(e.apartment));
  const points = new Map<TraceEvent, TimePoint>();
  const lastTime = new Map<number, number>();
  events.forEach((e, step) => {
    // Host-recorded events (faults) carry another thread's clock: never let a lane go backwards.
    const time = Math.max(e.time, lastTime.get(e.apartment) ?? -Infinity);
    lastTime.set(e.apartment, time);
    points.set(e, { time, step });
  });
  const at = (e: TraceEvent): TimePoint => points.get(e)!;
  const slices: RunSlice[] = [];
  const markers: Marker[] = [];
  const sends = new Map<string, TraceEvent>();
  const arrivals = new Map<string, TraceEvent>();
  const calls: CallSpan[] = [];
  const flows: Flow[] = [];
  const open = new Map<number, { name: string; causality: number; from: TimePoint }>();
  const chainOf = new Map<string, number>();
  // Chains with a call started and not yet ended, per lane: only their code can resume on it.
  const active = new Map<number, Map<number, number>>();
  const activeOn = (lane: number): Map<number, number> => active.get(lane) ?? active.set(lane, new Map()).get(lane)!;
  // A message sent or answered outside any run slice still gets a point slice, so arrows have ends.
  const point = (e: TraceEvent, name: string, causality: number): void => {
    slices.push({ lane: e.apartment, name, causality, from: at(e), to: at(e) });
  };

  for (const e of events) {
    const lane = e.apartment;
    const running = open.get(lane);
    if (running) {
      slices.push({ lane, name: running.name, causality: running.causality, from: running.from, to: at(e) });
      open.delete(lane);
    }
    // A call that threw ends with a red mark, like a refusal.
    if (e.kind === 'End' && e.extra === 0) markers.push({ lane, kind: 'Threw', name: e.name, causality: e.causality, value: 0, at: at(e), error: true });
    if (MARKED.has(e.kind)) {
      markers.push({ lane, kind: e.kind, name: e.name, causality: e.causality, value: e.extra, at: at(e), error: e.kind === 'Refuse' || e.kind === 'Fault' });
    }
    switch (e.kind) {
      case 'Start':
        activeOn(lane).set(e.causality, (activeOn(lane).get(e.causality) ?? 0) + 1);
        open.set(lane, { name: e.name, causality: e.causality, from: at(e) });
        flowIn(arrivals, sends, e, 'call');
        break;
      case 'Send':
        if (!running) point(e, `→ ${e.name}`, e.causality);
        sends.set(`${lane}>${e.peer}#${e.callId}`, e);
        chainOf.set(`${lane}>${e.peer}#${e.callId}`, e.causality);
        break;
      case 'End':
      case 'Refuse': {
        const key = `${e.peer}>${lane}#${e.callId}`;
        if (e.kind === 'End') {
          const n = activeOn(lane).get(e.causality) ?? 0;
          if (n <= 1) activeOn(lane).delete(e.causality);
          else activeOn(lane).set(e.causality, n - 1);
        }
        if (e.kind === 'Refuse') flowIn(arrivals, sends, e, 'call');
        arrivals.set(key, e);
        break;
      }
      case 'Reply': {
        const key = `${lane}>${e.peer}#${e.callId}`;
        const sent = sends.get(key);
        if (!sent) break;
        sends.delete(key);
        const causality = chainOf.get(key) ?? -1;
        calls.push({ id: key, lane, name: sent.name, causality, from: at(sent), to: at(e) });
        const answered = arrivals.get(key);
        if (answered && (answered.kind === 'End' || answered.kind === 'Refuse')) {
          flows.push({ id: `${key}/return`, direction: 'return', causality, fromLane: answered.apartment, from: at(answered), toLane: lane, to: at(e) });
        }
        // The caller's chain resumes with the answer if it is inside a call here; else a point.
        if (activeOn(lane).has(causality)) open.set(lane, { name: `↩ ${sent.name}`, causality, from: at(e) });
        else point(e, `← ${sent.name}`, causality);
        break;
      }
      default:
        if (running && REOPENS.has(e.kind)) open.set(lane, { ...running, from: at(e) });
    }
  }
  // Calls still running when the trace was taken end at their lane's last point.
  for (const [lane, running] of open) {
    const end = lastPointOf(events, lane, at);
    if (end.step > running.from.step) slices.push({ lane, name: running.name, causality: running.causality, from: running.from, to: end });
  }

  function flowIn(arrived: Map<string, TraceEvent>, sent: Map<string, TraceEvent>, e: TraceEvent, direction: 'call'): void {
    const key = `${e.peer}>${e.apartment}#${e.callId}`;
    const from = sent.get(key);
    if (from) flows.push({ id: key, direction, causality: from.causality, fromLane: from.apartment, from: at(from), toLane: e.apartment, to: at(e) });
    arrived.delete(key);
  }

  const origin = events.length > 0 ? Math.min(...events.map((e) => e.time)) : 0;
  return { lanes, slices, markers, calls, flows, origin, steps: events.length };
}

function lastPointOf(events: readonly TraceEvent[], lane: number, at: (e: TraceEvent) => TimePoint): TimePoint {
  for (let i = events.length - 1; i >= 0; i--) if (events[i]!.apartment === lane) return at(events[i]!);
  return { time: 0, step: 0 };
}

/** A colour per causality id (grey for events of no chain). */
export function chainColour(causality: number): string {
  if (causality < 0) return 'hsl(0, 0%, 55%)';
  return `hsl(${(causality * 137.508) % 360}, 65%, 48%)`;
}
