// What a trace must look like before it is drawn. A trace may come from runtime.trace() or from a
// file someone saved (JSON) and edited: the timeline writes its numbers into HTML attributes and its
// names into text, so a lane whose apartment was `"><script>…` was markup in the page, and a
// missing field failed deep inside with a TypeError. Any thread.
import { InvalidArgumentError } from '../../marshal/errors.js';
import type { Trace } from './trace-recorder.js';

const NUMBERS = ['seq', 'time', 'apartment', 'causality', 'peer', 'callId'] as const;

/** `trace` when it has the shape of a Trace (lanes and events with fields of the right types); InvalidArgumentError saying where otherwise. */
export function checkTrace(trace: unknown): Trace {
  const fail = (where: string, what: string): never => {
    throw new InvalidArgumentError(`[trace] ${where} ${what}; pass what runtime.trace() returned (or that saved as JSON, unchanged)`, { parameter: 'trace' });
  };
  if (trace === null || typeof trace !== 'object') return fail('the trace', `is ${trace === null ? 'null' : typeof trace}, not an object`);
  const { lanes, events } = trace as { lanes?: unknown; events?: unknown };
  if (!Array.isArray(lanes)) return fail('trace.lanes', 'is not an array');
  if (!Array.isArray(events)) return fail('trace.events', 'is not an array');
  lanes.forEach((lane: unknown, i) => {
    const l = lane as Record<string, unknown> | null;
    if (l === null || typeof l !== 'object' || !Number.isFinite(l['apartment']) || !Number.isFinite(l['thread']) || typeof l['name'] !== 'string') {
      fail(`trace.lanes[${i}]`, 'is not { apartment: number, name: string, thread: number }');
    }
  });
  events.forEach((event: unknown, i) => {
    const e = event as Record<string, unknown> | null;
    if (e === null || typeof e !== 'object' || typeof e['kind'] !== 'string' || typeof e['name'] !== 'string') fail(`trace.events[${i}]`, 'needs a kind and a name, both strings');
    for (const field of NUMBERS) if (!Number.isFinite(e![field])) fail(`trace.events[${i}].${field}`, 'is not a finite number');
    // A mark's value is any number the program gave traceMark() (NaN and Infinity too, which JSON
    // saves as null); it is only ever drawn as text.
    if (typeof e!['extra'] !== 'number' && e!['extra'] !== null) fail(`trace.events[${i}].extra`, 'is not a number');
  });
  return trace as Trace;
}
