// The control service through which the host turns tracing and diagnostics on in a worker
// apartment, and the installing of this thread's sink. Served in every worker apartment
// (lib/worker-features.ts); only the main apartment may call it. The buffers it receives come
// from the runtime, but are checked like any peer's arguments.
import { MAIN_ROLE, controlService, type ControlRouter } from '../../apartments/control-plane.js';
import { record } from '../../apartments/control-args.js';
import { InvalidArgumentError } from '../../marshal/errors.js';
import { setTraceSink, type TraceSink } from '../../marshal/trace-hook.js';
import { DiagnosticsSink } from './diagnostics.js';
import { TRACE_RING_MIN_BYTES, TraceRingWriter, type TraceRingHandle } from './trace-ring.js';

/** What to turn on in an apartment: a ring to write, diagnostics channels, or both. */
export interface TraceStart {
  readonly ring?: TraceRingHandle;
  readonly diagnostics: boolean;
}

export interface TraceApi {
  start(settings: TraceStart): void;
  stop(): void;
}
export const TraceService = controlService<TraceApi>('trace');

/** Install this thread's sink for apartment `apartment` (nothing when both are off). */
export function installTrace(apartment: number, settings: TraceStart): void {
  let sink: TraceSink | undefined = settings.ring ? new TraceRingWriter(settings.ring) : undefined;
  if (settings.diagnostics) sink = new DiagnosticsSink(apartment, sink);
  setTraceSink(sink);
}

/** Turn on what the host handed apartment `self` at boot (its `trace` feature entry), checked like a start. */
export function bootTrace(self: number, settings: unknown): void {
  installTrace(self, checkStart(settings));
}

/** Serve the trace service in the apartment `self`. */
export function serveTrace(router: ControlRouter, self: number): void {
  router.register(TraceService, {
    start: { roles: MAIN_ROLE, check: (args) => [checkStart(args[0])], run: (_caller, settings) => installTrace(self, settings) },
    stop: { roles: MAIN_ROLE, check: () => [], run: () => setTraceSink(undefined) },
  });
}

function checkStart(value: unknown): TraceStart {
  const settings = record(value, 'settings');
  const ring = settings.ring === undefined ? undefined : record(settings.ring, 'ring');
  if (ring) {
    for (const key of ['header', 'events', 'names', 'sequence'] as const) {
      if (!(ring[key] instanceof SharedArrayBuffer)) throw new InvalidArgumentError(`[trace] ring.${key} must be a SharedArrayBuffer`, { parameter: 'ring' });
    }
    if (!Number.isSafeInteger(ring.apartment)) throw new InvalidArgumentError('[trace] ring.apartment must be an apartment id', { parameter: 'ring' });
    const events = (ring.events as SharedArrayBuffer).byteLength;
    if (events < TRACE_RING_MIN_BYTES || (events & (events - 1)) !== 0 || (ring.header as SharedArrayBuffer).byteLength < 16 || (ring.sequence as SharedArrayBuffer).byteLength < 4) {
      throw new InvalidArgumentError('[trace] the ring buffers have the wrong sizes', { parameter: 'ring' });
    }
  }
  return { ring: ring as TraceRingHandle | undefined, diagnostics: settings.diagnostics === true };
}
