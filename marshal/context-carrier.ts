// The one optional hook through which a feature carries ambient context (OpenTelemetry's active
// span, say) with each call: the caller's side captures it as a short string that travels in the
// Call message, and the callee's side runs the call inside it. A composition root plugs a carrier
// in (lib/telemetry); with none, each hook point costs one read of `activeCarrier` and a branch.
// One carrier per thread. Owner: the thread that installs it.
import type { CallMessage, PipelineCallMessage } from './protocol.js';

/** Captures the caller's ambient context and restores it around the callee's work. */
export interface ContextCarrier {
  /** The ambient context to send with a call leaving now, or undefined for none (nothing is sent). */
  capture(): string | undefined;
  /**
   * Run `work` inside the context a call carried. `carried` comes from a peer that may be hostile: a
   * carrier that cannot read it runs `work` as it is.
   */
  within<T>(carried: string, work: () => T): T;
}

/** This thread's carrier; read it once per hook point and call it only when set. */
export let activeCarrier: ContextCarrier | undefined;

/** A call message leaving now, with the caller's ambient context appended when a carrier has some. */
export function withCarriedContext<M extends CallMessage | PipelineCallMessage>(message: M): M {
  const context = activeCarrier?.capture();
  if (context !== undefined) (message as unknown[]).push(context);
  return message;
}

/** Install (or with undefined, remove) this thread's carrier. */
export function setContextCarrier(carrier: ContextCarrier | undefined): void {
  activeCarrier = carrier;
}
