// The lock hierarchy: every lock may declare a level; while checking is on, taking a lock at or
// below the highest level the same logical call already holds fails with LockOrderError naming both
// locks. Locks taken in ascending order can never deadlock, so a violation is caught the first time
// the code runs, not the day two calls interleave badly. A logical call is the call chain being
// served (its causality id); code outside any served call shares its thread's list.
import { currentCall } from '../context.js';
import { LockOrderError } from '../errors.js';

/** What the hierarchy knows about a lock. */
export interface OrderedLock {
  readonly name: string;
  readonly level: number | undefined;
}

let checking = true;
const heldByChain = new Map<number, OrderedLock[]>();
const THREAD = -1;

/** Turn hierarchy checking on or off for this thread (on by default). */
export function setLockOrderChecking(on: boolean): void {
  checking = on;
}

function chain(): number {
  return currentCall()?.causality ?? THREAD;
}

/** Check that `lock` may be taken now; throws LockOrderError on a violation. */
export function checkOrder(lock: OrderedLock): void {
  if (!checking || lock.level === undefined) return;
  const held = heldByChain.get(chain());
  if (!held) return;
  for (const h of held) {
    if (h.level !== undefined && h.level >= lock.level) {
      throw new LockOrderError(`[lock-order] taking '${lock.name}' (level ${lock.level}) while holding '${h.name}' (level ${h.level}); take locks in ascending level order, or release '${h.name}' first`);
    }
  }
}

/** Record that the current logical call now holds `lock`. */
export function noteTaken(lock: OrderedLock): number {
  const c = chain();
  const held = heldByChain.get(c);
  if (held) held.push(lock);
  else heldByChain.set(c, [lock]);
  return c;
}

/** Record that logical call `c` released `lock`. */
export function noteReleased(lock: OrderedLock, c: number): void {
  const held = heldByChain.get(c);
  if (!held) return;
  const i = held.lastIndexOf(lock);
  if (i >= 0) held.splice(i, 1);
  if (held.length === 0) heldByChain.delete(c);
}
