// A wait in a queue of the main apartment that a call from some apartment makes (a lease on a
// rental object, named memory still being initialised, a once() value being built). It leaves the
// queue when the waiting call's signal aborts (its caller cancelled or passed its deadline: granted
// later, the wait would hand a lease, creation or a handle to nobody) or after its own time limit;
// however it ends, its timer and its listener go with it. A grant that crosses the caller's cancel
// on its way back is given back by ticket: the caller names the request it gave up
// (askTicketed), and the registry drops its wait or takes back what it was granted
// (dropTicketedWait). The queue is the main apartment's; askTicketed runs in the asking apartment.
import { CallCanceledError, CallTimeoutError } from '../marshal/errors.js';
import { isRuntimeError } from '../marshal/clone-failure.js';
import { setLongTimeout, type LongTimer } from '../marshal/long-timer.js';

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
    let timer: LongTimer | undefined;
    const end = (): void => {
      timer?.clear();
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
    if (options.timeoutMs !== undefined) timer = setLongTimeout(() => leave(options.timedOut!()), options.timeoutMs);
  });
}

/** A waiter a caller names by its apartment and the ticket of its request. */
export interface TicketedWaiter {
  readonly apartment: number;
  readonly ticket: number | undefined;
  reject(e: Error): void;
}

/**
 * Main apartment: the wait of `apartment`'s request `ticket` in `queue` leaves it, failing with
 * `err`; false when there is none (granted already, or never queued).
 */
export function dropTicketedWait(queue: TicketedWaiter[], apartment: number, ticket: number, err: () => Error): boolean {
  const at = queue.findIndex((w) => w.apartment === apartment && w.ticket === ticket);
  if (at < 0) return false;
  const [waiter] = queue.splice(at, 1);
  waiter!.reject(err());
  return true;
}

/** This apartment's last request number (tickets only need to differ within one apartment). */
let lastTicket = 0;

/**
 * Caller side: ask with a fresh ticket. A caller that stops waiting (canceled, or past its deadline)
 * may have been granted something on the way back (a lease, creation, a handle, a build): `giveUp`
 * names the ticket to the registry, which gives it back, so nothing is held for good by a request
 * nobody answers. Resolves with what was granted and the ticket it was granted by.
 */
export async function askTicketed<R>(ask: (ticket: number) => R | Promise<R>, giveUp: (ticket: number) => unknown): Promise<{ granted: R; ticket: number }> {
  const ticket = ++lastTicket;
  try {
    return { granted: await ask(ticket), ticket };
  } catch (err) {
    if (isRuntimeError(err, CallCanceledError) || isRuntimeError(err, CallTimeoutError)) {
      await Promise.resolve().then(() => giveUp(ticket)).catch(() => undefined);
    }
    throw err;
  }
}
