// The host's side of tracing: one shared ring per traced apartment (the main one included when
// the runtime traces), a global sequence counter they share, and the merge of what they recorded
// into one trace. Faults and restarts are recorded here, on the lane of the apartment they
// concern, because the apartment itself cannot record its own death. Owner: the main apartment.
import { optionKeys } from '../../marshal/option-keys.js';
import { TraceKind } from '../../marshal/trace-hook.js';
import { createTraceRing, TraceRingReader, TRACE_KIND_NAMES, TraceRingWriter, type RawTraceEvent, type TraceRingHandle } from './trace-ring.js';

/** Options of tracing, as Runtime.start({ trace }) takes them. */
export interface TraceOptions {
  /**
   * Events each apartment's ring holds between drains, counted at 16 bytes each (default 32 768, a
   * 512 KiB ring; the host drains every 10 ms); more are dropped and counted. A small ring is reused
   * while its pages are still in memory; a big one is written into fresh memory until it first wraps.
   */
  capacity?: number;
}
/** The keys Runtime.start({ trace }) takes as an object; any other is refused. */
export const TRACE_OPTION_KEYS = optionKeys<TraceOptions>({ capacity: true });

/** The largest ring capacity tracing accepts, in events (a 64 MiB ring). */
export const TRACE_CAPACITY_MAX = 1 << 22;

/** One lane of the timeline: an apartment and the thread it runs on. */
export interface TraceLane {
  readonly apartment: number;
  /** Like "ui (1) · thread 3". */
  readonly name: string;
  readonly thread: number;
}

/** One event of a merged trace. */
export interface TraceEvent extends Omit<RawTraceEvent, 'kind'> {
  readonly kind: string;
}

/** A merged trace: every lane, and every event in global order (by sequence number). */
export interface Trace {
  readonly lanes: readonly TraceLane[];
  readonly events: readonly TraceEvent[];
  /** Events lost because a ring was full. */
  readonly dropped: number;
  /** Apartments whose ring held a record that made no sense (damaged memory): their events stop there. */
  readonly damaged: readonly number[];
}

/** Collects the rings of traced apartments and merges them. */
export class TraceRecorder {
  private readonly sequence = new SharedArrayBuffer(4);
  private readonly rings = new Map<number, TraceRingReader>();
  private readonly lanes = new Map<number, TraceLane>();
  /** Raw chunks drained but not yet decoded (decoding waits until someone asks: it is the costly part). */
  private readonly pending: { ring: TraceRingReader; chunk: Uint8Array }[] = [];
  private readonly collected: TraceEvent[] = [];
  private readonly capacity: number;
  private host: TraceRingWriter | undefined;

  constructor(
    options: TraceOptions,
    private readonly onEvents: (events: readonly TraceEvent[]) => void = () => {},
    /** Whether anyone wants events as they are drained (else the periodic drain only copies memory). */
    private readonly wantsEvents: () => boolean = () => false,
  ) {
    this.capacity = options.capacity ?? 32_768;
  }

  /** A new ring for apartment `apartment` on `thread`, named `label`; its handle goes to the thread. */
  open(apartment: number, label: string, thread: number): TraceRingHandle {
    const handle = createTraceRing(apartment, this.capacity, this.sequence);
    this.rings.set(apartment, new TraceRingReader(handle));
    this.nameLane(apartment, label, thread);
    return handle;
  }

  /** Name the lane of a ring (again, once its thread is known when it was opened before). */
  nameLane(apartment: number, label: string, thread: number): void {
    if (this.rings.has(apartment)) this.lanes.set(apartment, { apartment, name: `${label} (${apartment}) · thread ${thread}`, thread });
  }

  /**
   * A lane without a ring, for an apartment that shares no memory with the host (a process
   * apartment, named "… · process"): it shows what the host records about it.
   */
  laneOnly(apartment: number, label: string): void {
    this.lanes.set(apartment, { apartment, name: `${label} (${apartment}) · process`, thread: 0 });
  }

  /** Record on the host, on the lane of `apartment` (faults, restarts, markers of the host). */
  recordHost(kind: typeof TraceKind.Fault | typeof TraceKind.Restart | typeof TraceKind.Mark, apartment: number, name: string, extra: number): void {
    if (!this.host) {
      // The host's own writes go to a ring of their own, merged under the lane they name.
      this.host = new TraceRingWriter(this.open(-1, 'host', 0));
      this.lanes.delete(-1);
    }
    this.host.record(kind, -1, apartment, -1, name, extra);
  }

  /** Copy what every ring holds out of it, making room; cheap. Decodes too if events are wanted. */
  drain(): void {
    for (const ring of this.rings.values()) {
      const chunk = ring.drainRaw();
      if (chunk) this.pending.push({ ring, chunk });
    }
    if (this.wantsEvents()) this.decodePending();
  }

  /** Decode the drained chunks into the trace, in global order; tell the listener about them. */
  private decodePending(): void {
    if (this.pending.length === 0) return;
    const fresh: TraceEvent[] = [];
    for (const { ring, chunk } of this.pending.splice(0)) {
      const apartment = ring.handle.apartment;
      for (const raw of ring.decode(chunk)) {
        // Host records belong to the apartment they concern.
        const lane = apartment === -1 ? raw.peer : apartment;
        fresh.push({ ...raw, apartment: lane, kind: TRACE_KIND_NAMES[raw.kind] ?? 'Unknown' });
      }
    }
    fresh.sort((a, b) => a.seq - b.seq);
    // Merge with what was decoded before (chunks of different rings interleave in order).
    const merged = this.collected.length > 0 && fresh.length > 0 && fresh[0]!.seq < this.collected[this.collected.length - 1]!.seq;
    for (const e of fresh) this.collected.push(e);
    if (merged) this.collected.sort((a, b) => a.seq - b.seq);
    this.onEvents(fresh);
  }

  /** Everything recorded so far, merged (drains first). */
  snapshot(): Trace {
    this.drain();
    this.decodePending();
    let dropped = 0;
    const damaged: number[] = [];
    for (const [apartment, ring] of this.rings) {
      dropped += ring.dropped;
      if (ring.malformed) damaged.push(apartment);
    }
    const used = new Set(this.collected.map((e) => e.apartment));
    const lanes = [...this.lanes.values()].filter((l) => used.has(l.apartment) || this.rings.has(l.apartment));
    return { lanes, events: [...this.collected], dropped, damaged };
  }

  /** Forget what was collected so far (rings keep recording). */
  clear(): void {
    this.drain();
    this.pending.length = 0;
    this.collected.length = 0;
  }
}
