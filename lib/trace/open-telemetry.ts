// OpenTelemetry's trace context across apartments: the span active in a caller becomes the parent of
// the work its call does in the callee, however many apartments the chain crosses. The context
// travels as a W3C `traceparent` in each Call (marshal/context-carrier.ts). `@opentelemetry/api` is
// an optional peer: this module loads it only in a runtime that asked for it, as a hooks module
// attached in every apartment (each thread has its own carrier). The API's own types are not named
// here, so that the runtime's declarations do not need it installed.
import type { ApartmentHooks } from '../../apartments/apartment-hooks.js';
import { setContextCarrier, type ContextCarrier } from '../../marshal/context-carrier.js';
import { ModuleLoadError } from '../../marshal/errors.js';

/** The part of an OpenTelemetry span context that crosses: ids and sampling flags (no trace state). */
interface SpanContextLike {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
}

/** The part of `@opentelemetry/api` the carrier uses. */
export interface OpenTelemetryApi {
  context: { active(): unknown; with<T>(context: unknown, work: () => T): T };
  trace: { getSpanContext(context: unknown): SpanContextLike | undefined; setSpanContext(context: unknown, spanContext: SpanContextLike): unknown };
  isSpanContextValid(spanContext: SpanContextLike): boolean;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A carrier that sends the active span's context as a `traceparent` and makes it the callee's parent. */
export function openTelemetryCarrier(api: OpenTelemetryApi): ContextCarrier {
  return {
    capture() {
      const span = api.trace.getSpanContext(api.context.active());
      if (span === undefined || !api.isSpanContextValid(span)) return undefined;
      return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
    },
    within(carried, work) {
      // From a peer that may be hostile: anything but a valid traceparent leaves the work as it is.
      const parsed = TRACEPARENT.exec(carried);
      if (parsed === null) return work();
      const parent: SpanContextLike = { traceId: parsed[1]!, spanId: parsed[2]!, traceFlags: Number.parseInt(parsed[3]!, 16), isRemote: true };
      if (!api.isSpanContextValid(parent)) return work();
      return api.context.with(api.trace.setSpanContext(api.context.active(), parent), work);
    },
  };
}

/**
 * Whether this thread has an OpenTelemetry context manager registered (an SDK was set up in it): the
 * API keeps what is registered in a global of its major version; without a context manager no span
 * is ever active, so there would be nothing to carry.
 */
export function openTelemetryRegistered(): boolean {
  const registered = (globalThis as Record<symbol, { context?: unknown } | undefined>)[Symbol.for('opentelemetry.js.api.1')];
  return registered?.context !== undefined;
}

/** Where the hooks below are, to register them (Runtime.start does, when OpenTelemetry is on). */
export const OPEN_TELEMETRY_HOOKS = { module: new URL(import.meta.url).href, export: 'openTelemetryHooks' } as const;

/** Attached in every apartment of a runtime started with OpenTelemetry on: installs its carrier there. */
export const openTelemetryHooks: ApartmentHooks = {
  async attach() {
    let api: OpenTelemetryApi;
    try {
      api = (await import('@opentelemetry/api' as string)) as OpenTelemetryApi;
    } catch (err) {
      throw new ModuleLoadError(`[open-telemetry] openTelemetry is on but '@opentelemetry/api' could not be loaded (${(err as Error).message}); install it in the host's project, or start the runtime with openTelemetry: false`, { cause: err });
    }
    setContextCarrier(openTelemetryCarrier(api));
  },
  detach() {
    setContextCarrier(undefined);
  },
};
