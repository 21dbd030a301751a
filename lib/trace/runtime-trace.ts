// Tracing and diagnostics as the host's composition root wires them: which apartments are
// traced (all of them when the runtime traces, or those created with { trace: true }), the host
// thread's own sink, the rings sent to worker apartments, faults and restarts, and the typed
// events the runtime emits for what the rings held. Owner: the main apartment.
import { setTraceSink, TraceKind } from '../../marshal/trace-hook.js';
import type { ControlClient } from '../../apartments/control-plane.js';
import { installTrace, type TraceApi, type TraceStart } from './trace-service.js';
import { TraceRecorder, type Trace, type TraceEvent, type TraceOptions } from './trace-recorder.js';

/** What the runtime emits for traced events (batched: emitted when the host drains the rings). */
export type TraceEvents = {
  'call-start': (event: TraceEvent) => void;
  'call-end': (event: TraceEvent) => void;
  'object-created': (event: TraceEvent) => void;
  'object-released': (event: TraceEvent) => void;
};

const EMITTED: Readonly<Record<string, keyof TraceEvents>> = { Start: 'call-start', End: 'call-end', Export: 'object-created', Release: 'object-released' };
/**
 * How often the host drains the rings while tracing (they also drain on every snapshot): often
 * enough that a default ring (32 768 events) holds what a thread records between drains at a
 * million events a second, and what is drained is copied while it is still in the cache.
 */
const DRAIN_EVERY_MS = 10;

/** The runtime's tracing switchboard. */
export class RuntimeTrace {
  private recorder: TraceRecorder | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly all: boolean;
  private readonly diagnostics: boolean;
  private readonly options: TraceOptions;

  constructor(
    trace: boolean | TraceOptions | undefined,
    diagnostics: boolean | undefined,
    private readonly emit: <K extends keyof TraceEvents>(name: K, event: TraceEvent) => void,
    /** How many listeners the runtime has for a typed trace event. */
    private readonly listeners: (name: keyof TraceEvents) => number = () => 0,
  ) {
    this.all = trace !== undefined && trace !== false;
    this.options = typeof trace === 'object' && trace !== null ? trace : {};
    this.diagnostics = diagnostics === true;
  }

  /** Turn tracing on for the main apartment (this thread) if the runtime traces. */
  attachMain(label: string): void {
    if (!this.all && !this.diagnostics) return;
    installTrace(0, { ring: this.all ? this.recorderOf().open(0, label, 0) : undefined, diagnostics: this.diagnostics });
  }

  /**
   * What a new apartment whose link shares memory is handed at boot (its boot features' `trace`), so
   * tracing is on before its hooks attach: a ring when it is traced, and the diagnostics switch. Its lane is named once it is
   * ready (attach), when its thread is known.
   */
  bootFeatures(apartment: number, label: string, perApartment: boolean | undefined, sharedMemory: boolean): { trace?: TraceStart } {
    if (!sharedMemory) return {};
    const ringed = perApartment ?? this.all;
    if (!ringed && !this.diagnostics) return {};
    return { trace: { ring: ringed ? this.recorderOf().open(apartment, label, 0) : undefined, diagnostics: this.diagnostics } };
  }

  /**
   * An apartment just said Ready. One that shares memory with the host was set up at boot: its lane
   * gets its thread. One that shares none (a process apartment) records nothing of its own: its lane
   * shows what the host records about it (its fault, its restart), and diagnostics start now.
   */
  async attach(apartment: number, label: string, thread: number, perApartment: boolean | undefined, service: ControlClient<TraceApi>, sharedMemory: boolean): Promise<void> {
    const traced = perApartment ?? this.all;
    if (sharedMemory) {
      if (traced) this.recorder?.nameLane(apartment, label, thread);
      return;
    }
    if (traced) this.recorderOf().laneOnly(apartment, label);
    if (this.diagnostics) await service.start({ ring: undefined, diagnostics: true });
  }

  fault(apartment: number, code: string): void {
    this.recorder?.recordHost(TraceKind.Fault, apartment, code, 0);
  }

  restart(faulted: number, replacement: number): void {
    this.recorder?.recordHost(TraceKind.Restart, faulted, 'restart', replacement);
  }

  /** A marker on `apartment`'s lane, recorded by the host. */
  mark(apartment: number, name: string, value = 0): void {
    this.recorder?.recordHost(TraceKind.Mark, apartment, name, value);
  }

  /** Whether anything is traced. */
  get enabled(): boolean {
    return this.recorder !== undefined;
  }

  /** Everything recorded so far (an empty trace when nothing is traced). */
  snapshot(): Trace {
    return this.recorder?.snapshot() ?? { lanes: [], events: [], dropped: 0, damaged: [] };
  }

  clear(): void {
    this.recorder?.clear();
  }

  /** Drain one last time and stop the timer (the runtime closed). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.all || this.diagnostics) setTraceSink(undefined);
    this.recorder?.drain();
  }

  private recorderOf(): TraceRecorder {
    if (!this.recorder) {
      this.recorder = new TraceRecorder(this.options, (events) => {
        for (const e of events) {
          const name = EMITTED[e.kind];
          if (name) this.emit(name, e);
        }
      }, () => Object.values(EMITTED).some((name) => this.listeners(name) > 0));
      this.timer = setInterval(() => this.recorder?.drain(), DRAIN_EVERY_MS);
      this.timer.unref();
    }
    return this.recorder;
  }
}
