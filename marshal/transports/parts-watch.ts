// How long a session waits for the rest of a parted message whose sender stopped sending it, and
// the timer that looks. A session with a host holds what came of a message until its last part:
// a host may declare a heartbeat of up to 1000 × 1 h, so the wait is the host's whole heartbeat but
// never more than MAX_PARTS_MS, for the node pair's session (main thread) and each apartment's
// (its own thread) alike. The thread that owns the session only.
import type { NatsPeer } from './nats-peer.js';

/** The longest a parted message from a host may stall, whatever heartbeat the host asked for. */
export const MAX_PARTS_MS = 600_000;

/** How long a parted message from a host with a heartbeat of `periodMs` × `misses` may go without a part, ms. */
export function partsTimeMs(periodMs: number, misses: number): number {
  return Math.min(periodMs * misses, MAX_PARTS_MS);
}

/**
 * How often a session looks at its unfinished parted message, ms: once a heartbeat period, or
 * twice within the time a message may stall if that is shorter (the node caps that time, not the
 * host's period); and after how many looks a message still unfinished ends its session: four times
 * that time, counted in looks.
 */
export function partsLooks(periodMs: number, partsMs: number): { everyMs: number; maxLooks: number } {
  const everyMs = Math.max(10, Math.min(periodMs, partsMs / 2));
  return { everyMs, maxLooks: Math.ceil((4 * partsMs) / everyMs) };
}

/**
 * Look at `peer`'s unfinished parted message every partsLooks(periodMs, partsMs).everyMs (a timer
 * that never keeps the thread alive), once the poll phase after the timer is over: what had arrived
 * by the time the timer ran was read by then, so a thread busy in a long synchronous call does not
 * end an honest message for it. `looked` runs at each look with when its turn of the loop began.
 * Returns what stops the timer.
 */
export function watchParts(peer: NatsPeer, periodMs: number, partsMs: number, looked?: (began: number) => void): () => void {
  const { everyMs, maxLooks } = partsLooks(periodMs, partsMs);
  const look = (): void => {
    const began = Date.now();
    setImmediate(() => {
      looked?.(began);
      peer.expireParts(began, partsMs, maxLooks);
    });
  };
  look();
  const timer = setInterval(look, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
