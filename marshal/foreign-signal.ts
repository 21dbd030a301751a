// Abort signals that are not this realm's AbortSignal: a polyfill's, or one made in another realm
// (a vm context, jsdom). `instanceof AbortSignal` refused them, though Node's own APIs accept any
// object with an `aborted` property. The runtime accepts what Node accepts and can listen to, and
// follows it through a signal of its own, so everything past the check (AbortSignal.any,
// throwIfAborted, the channels' listeners) sees a real AbortSignal. The caller owns the foreign
// signal; the adopted one lives as long as the foreign signal keeps its listener.

/** What the runtime needs of a signal: Node's test (`aborted`), and a way to hear it abort. */
interface ForeignSignal {
  readonly aborted: unknown;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Whether `value` is an abort signal the runtime can follow although it is no AbortSignal of this realm. */
export function isForeignSignal(value: unknown): value is ForeignSignal {
  if (value === null || typeof value !== 'object' || !('aborted' in value)) return false;
  const { addEventListener, removeEventListener } = value as Partial<ForeignSignal>;
  return typeof addEventListener === 'function' && typeof removeEventListener === 'function';
}

/** An AbortSignal of this realm that aborts, with the same reason, when `foreign` does (or already has). */
export function adoptSignal(foreign: ForeignSignal): AbortSignal {
  if (foreign.aborted) return AbortSignal.abort(foreign.reason);
  const controller = new AbortController();
  foreign.addEventListener('abort', () => controller.abort(foreign.reason), { once: true });
  return controller.signal;
}
