// The lock hierarchy: every lock may declare a level; while checking is on, taking a lock at or
// below a level the same logical call already holds fails with LockOrderError naming both locks.
// Locks taken in ascending order can never deadlock, so a violation is caught the first time the
// code runs, not the day two calls interleave badly.
//
// What "the same logical call" is, and where its held set lives:
// - Inside a served call it is the call chain (its causality id), wherever the chain runs: the
//   set lives in the process-wide shared table (held-lock-table.ts), keyed by causality, so a
//   lock taken in apartment A is seen when the chain calls on into apartment B, and back.
// - Outside any served call (host code, timers, event handlers) it is the asynchronous flow: each
//   flow gets its own set through AsyncLocalStorage, so two unrelated flows on one thread never
//   see each other's locks. Every acquisition enters a new node holding a snapshot of the locks
//   still held where it started, plus its own. A node is a snapshot, not a shared list, because
//   entering a store from inside lock() also reaches code that runs later in the same
//   synchronous turn (a sibling task started right after); such code sees only what was already
//   held when it started, not what the other task takes afterwards — which is also why lock()
//   records its lock in the node only after a microtask, once the turn that asked for it is over.
//   Limit: JavaScript cannot tell an async function's steps before its first await from its
//   caller's, so a lock taken there is also seen by a caller that did not await the function,
//   until it is released. These flows stay on their thread: a call they make starts a new chain.
// - In an apartment with async call tracking off (interruptible script engines), the thread has
//   one set for everything outside a served call.
import { AsyncLocalStorage } from 'node:async_hooks';
import { asyncCallTracking, currentApartment, currentCall, inApartment } from '../../apartments/context.js';
import { InvalidArgumentError, LockOrderError, shownValue } from '../../marshal/errors.js';
import { heldLocks } from './held-lock-table.js';
import { TraceKind } from '../../marshal/trace-hook.js';
import { traceLock } from '../trace/trace-mark.js';

/** What the hierarchy knows about a lock. */
export interface OrderedLock {
  readonly name: string;
  readonly level: number | undefined;
}

/** A lock the hierarchy counts as held; release() once, when it is unlocked. */
export interface HeldLock {
  release(): void;
}

/** A lock about to be taken: checked against the logical call, recorded under it once taken. */
export interface OrderClaim {
  taken(): HeldLock;
  /**
   * Whether it is recorded in a flow outside any served call. lock() then records it only after a
   * microtask, so that tasks started later in the same synchronous turn do not inherit it.
   */
  readonly inFlow: boolean;
}

/** One lock held by a flow outside any served call. */
interface FlowHold {
  readonly name: string;
  readonly level: number;
  released: boolean;
}

/** A flow's view: what was held where it started, and what it took itself. */
class Flow {
  readonly own: FlowHold[] = [];
  constructor(readonly inherited: readonly FlowHold[]) {}

  held(): FlowHold[] {
    return [...this.inherited, ...this.own].filter((h) => !h.released);
  }
}

let checking = true;
const flows = new AsyncLocalStorage<Flow>();
let threadFlow = new Flow([]);
const NOT_HELD: HeldLock = { release() {} };
const UNCHECKED: OrderClaim = { taken: () => NOT_HELD, inFlow: false };

/** Turn hierarchy checking on or off for this thread (on by default). */
export function setLockOrderChecking(on: boolean): void {
  if (typeof on !== 'boolean') throw new InvalidArgumentError(`[lock-order] setLockOrderChecking() takes true or false; got ${shownValue(on)}`, { parameter: 'on' });
  checking = on;
}

function orderError(lock: OrderedLock, held: { name: string; level: number }): LockOrderError {
  traceLock(TraceKind.Refuse, `ERROR_LOCK_VIOLATION ${lock.name} after ${held.name}`);
  return new LockOrderError(`[lock-order] taking '${lock.name}' (level ${lock.level}) while holding '${held.name}' (level ${held.level}); take locks in ascending level order, or release '${held.name}' first`);
}

/**
 * Check that `lock` may be taken now by the calling logical call (LockOrderError if not), and bind
 * where it will be recorded. Call it synchronously at the start of an acquisition, before any await.
 */
export function claimOrder(lock: OrderedLock): OrderClaim {
  const level = lock.level;
  if (!checking || level === undefined) return UNCHECKED;
  const call = currentCall();
  if (call) {
    const clash = heldLocks.atOrAbove(call.causality, level);
    if (clash) throw orderError(lock, clash);
    const key = call.causality;
    return {
      inFlow: false,
      taken: () => {
        const row = heldLocks.add(key, inApartment() ? currentApartment().id : -1, lock.name, level);
        return { release: () => heldLocks.remove(row, key) };
      },
    };
  }
  const tracked = asyncCallTracking();
  const here = tracked ? flows.getStore() : threadFlow;
  const held = here?.held() ?? [];
  const clash = held.reduce<FlowHold | undefined>((top, h) => (h.level >= level && (!top || h.level > top.level) ? h : top), undefined);
  if (clash) throw orderError(lock, clash);
  let flow = threadFlow;
  if (tracked) {
    flow = new Flow(held);
    flows.enterWith(flow);
  }
  return {
    inFlow: tracked,
    taken: () => {
      const hold: FlowHold = { name: lock.name, level, released: false };
      flow.own.push(hold);
      return {
        release: () => {
          hold.released = true;
          flow.own.splice(flow.own.indexOf(hold), 1);
        },
      };
    },
  };
}

/** Runtime internals: an apartment is gone; forget the locks its threads held for calls. */
export function forgetHeldLocks(apartment: number): void {
  heldLocks.forgetApartment(apartment);
}

