// node:diagnostics_channel channels for calls and object lifecycle, published in every thread
// where tracing or diagnostics is on. A subscriber in a thread sees that thread's apartment:
// subscribe in a hooks module's attach() to see every apartment. Messages are plain objects.
import diagnostics from 'node:diagnostics_channel';
import { TraceKind, type TraceKindCode, type TraceSink } from '../../marshal/trace-hook.js';

/** Channel names; stable, part of the public API. */
export const DiagnosticsChannels = {
  callStart: 'apartment-runtime:call:start',
  callEnd: 'apartment-runtime:call:end',
  callRefused: 'apartment-runtime:call:refused',
  callSent: 'apartment-runtime:call:sent',
  objectCreated: 'apartment-runtime:object:created',
  objectReleased: 'apartment-runtime:object:released',
} as const;

/** What every channel's message carries. */
export interface DiagnosticsMessage {
  readonly apartment: number;
  /** The logical call chain (-1 where the event belongs to none). */
  readonly causality: number;
  /** The other apartment (caller for start/end/refused, callee for sent). */
  readonly peer: number;
  /** The channel's call id, or the object id for object events. */
  readonly id: number;
  /** The method, the refusal's error code, or the object's class. */
  readonly name: string;
  /** End: whether the call succeeded; object events: live exported objects after. */
  readonly detail: number;
}

const channels: Partial<Record<TraceKindCode, diagnostics.Channel>> = {
  [TraceKind.Start]: diagnostics.channel(DiagnosticsChannels.callStart),
  [TraceKind.End]: diagnostics.channel(DiagnosticsChannels.callEnd),
  [TraceKind.Refuse]: diagnostics.channel(DiagnosticsChannels.callRefused),
  [TraceKind.Send]: diagnostics.channel(DiagnosticsChannels.callSent),
  [TraceKind.Export]: diagnostics.channel(DiagnosticsChannels.objectCreated),
  [TraceKind.Release]: diagnostics.channel(DiagnosticsChannels.objectReleased),
};

/** A sink that publishes to the channels (when they have subscribers) and forwards to `next`. */
export class DiagnosticsSink implements TraceSink {
  constructor(private readonly apartment: number, private readonly next: TraceSink | undefined) {}

  record(kind: TraceKindCode, causality: number, peer: number, callId: number, name: string | number, extra: number): void {
    this.next?.record(kind, causality, peer, callId, name, extra);
    const channel = channels[kind];
    if (channel?.hasSubscribers) {
      const message: DiagnosticsMessage = { apartment: this.apartment, causality, peer, id: callId, name: String(name), detail: extra };
      channel.publish(message);
    }
  }
}
