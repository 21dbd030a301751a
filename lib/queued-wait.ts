// A wait in a queue of the main apartment that a call from some apartment makes (a lease on a
// rental object, named memory still being initialised, a once() value being built). It leaves the
// queue when the waiting call's signal aborts (its caller cancelled or passed its deadline: granted
// later, the wait would hand a lease, creation or a handle to nobody) or after its own time limit;
// however it ends, its timer and its listener go with it. Main apartment only.

/** How a queued wait ends other than by being settled. */
export interface QueuedWaitOptions {
  /** The waiting call's signal. */
  readonly signal: AbortSignal | undefined;
  /** The error of a wait given up through `signal`. */
  canceled(reason: unknown): Error;
  /** Leave after this long, with timedOut()'s error. */
  readonly timeoutMs?: number;
  timedOut?(): Error;
}

/**
 * Push the waiter `make` builds onto `queue()` (read each time: its owner may replace the array) and
 * wait until the waiter is settled through the resolve or reject it was given, or leaves.
 */
export function queuedWait<W, R>(queue: () => W[], make: (resolve: (r: R) => void, reject: (e: Error) => void) => W, options: QueuedWaitOptions): Promise<R> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(options.canceled(signal.reason));
  return new Promise<R>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const end = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', canceled);
    };
    const leave = (err: Error): void => {
      const waiters = queue();
      const at = waiters.indexOf(waiter);
      if (at < 0) return;
      waiters.splice(at, 1);
      end();
      reject(err);
    };
    const canceled = (): void => leave(options.canceled(signal!.reason));
    const waiter = make((r) => {
      end();
      resolve(r);
    }, (e) => {
      end();
      reject(e);
    });
    queue().push(waiter);
    signal?.addEventListener('abort', canceled, { once: true });
    if (options.timeoutMs !== undefined) timer = setTimeout(() => leave(options.timedOut!()), options.timeoutMs);
  });
}
