// One spin loop per thread over every shared-ring consumer that waits for input, and the
// process-wide gate that stops spinning when more threads are awake than there are cores free of
// other processes' work (then spinning only steals a core from a thread with work). Owner thread
// only, except the gate words.
import { LoadSampler, MachineLoad } from './machine-load.js';
import type { SpinPolicy } from './spin-policy.js';
import { atTurnEnd } from '../turn-end.js';
import { monotonicMs } from '../monotonic-clock.js';

/** Longest stretch of spin rounds chained without yielding to the event loop, in µs. */
const CHAIN_MICROS = 1000;

/** What the spinner needs of a consumer: its spin policy, a check for input, and drain or park. */
export interface SpinningConsumer {
  /** When the current spin began (µs, from now()). */
  spinSince: number;
  /** The current spin's budget, and what the spinner tells it each spin found. */
  readonly spinPolicy: SpinPolicy;
  hasWork(): boolean;
  drain(): void;
  park(): void;
}

/**
 * Gate words: threads with an awake transport, the core count they share, how many of those
 * cores other processes keep busy now, and a count of wake-ups (a thread's first transport
 * becoming awake) that tells the load sampler the runtime is in use (exported for specs).
 */
export const G_AWAKE = 0;
export const G_CORES = 1;
export const G_BUSY_ELSEWHERE = 2;
export const G_WAKES = 3;
let gate: Int32Array | undefined;

/** This process's gate: made by the first thread to create a ring pair, adopted by every other. */
export function threadGate(adopt?: SharedArrayBuffer): Int32Array {
  if (!gate) {
    if (adopt) gate = new Int32Array(adopt);
    else {
      gate = new Int32Array(new SharedArrayBuffer(16));
      // Only the gate's maker (the host's main thread) needs node:os and node:fs: a thread that
      // adopts the gate does not load them (each costs a fresh worker ≈ 0.4 ms).
      gate[G_CORES] = process.getBuiltinModule('node:os').availableParallelism();
      watchOtherProcesses(gate);
    }
  }
  return gate;
}

/** The gate maker's load sampler (Linux only); undefined in other threads. */
let sampler: LoadSampler | undefined;

/**
 * Linux: keep G_BUSY_ELSEWHERE at the cores other processes kept busy (machine-load.ts: the busy
 * time of the cores we may run on less this process's CPU time, the least of the last periods).
 * Spinning for a peer pays only when the peer has a core of its own; with a CPU-bound neighbour on
 * a 2-core machine it has not, and each spin then delays the very thread it waits for (a
 * sequential call measured 135-150 µs spinning against 57-65 µs parked). A period counts only if
 * some thread of ours was awake or woke in it (an idle runtime reads nothing).
 */
function watchOtherProcesses(g: Int32Array): void {
  if (process.platform !== 'linux') return;
  let wakes = Atomics.load(g, G_WAKES);
  const { readFileSync } = process.getBuiltinModule('node:fs');
  sampler = new LoadSampler(new MachineLoad((path) => readFileSync(path, 'latin1')), {
    active: () => {
      const woke = Atomics.load(g, G_WAKES);
      const active = woke !== wakes || Atomics.load(g, G_AWAKE) > 0;
      wakes = woke;
      return active;
    },
    publish: (cores) => Atomics.store(g, G_BUSY_ELSEWHERE, cores),
  });
}

// This thread's word "I hold a place in the gate's awake count". In a worker apartment it is shared
// with the main thread, which gives the place back if the thread dies awake (terminated or crashed
// mid-spin); otherwise every such death would keep spinning off for the rest of the process.
let awakeFlag: Int32Array<ArrayBufferLike> = new Int32Array(1);

/** Use `memory` as this thread's awake flag (worker apartments, at start, before any transport). */
export function shareAwakeFlag(memory: SharedArrayBuffer): void {
  awakeFlag = new Int32Array(memory);
}

/** After a thread exited: give back the place in the awake count it held, if it died awake. */
export function releaseAwakePlace(memory: SharedArrayBuffer): void {
  if (Atomics.exchange(new Int32Array(memory), 0, 0) === 1) Atomics.sub(threadGate(), G_AWAKE, 1);
}

/** Microseconds, monotonic. */
export const now = (): number => monotonicMs() * 1000;

/** Runs one spin loop per thread over every transport that wants to spin; owner thread only. */
export class ThreadSpinner {
  private readonly spinning: SpinningConsumer[] = [];
  private scheduled = false;
  private awakeTransports = 0;

  /** Count a transport awake or asleep; the thread is awake in the gate while any of its transports is. */
  setAwake(awake: boolean): void {
    const g = threadGate();
    // The flag is raised before the count and lowered before it: a thread that dies in between
    // makes the count one low (one extra spinner for a while), never one high for good.
    if (awake) {
      if (this.awakeTransports++ === 0) {
        Atomics.store(awakeFlag, 0, 1);
        Atomics.add(g, G_AWAKE, 1);
        Atomics.add(g, G_WAKES, 1);
        sampler?.resume();
      }
    } else if (--this.awakeTransports === 0 && Atomics.exchange(awakeFlag, 0, 0) === 1) {
      Atomics.sub(g, G_AWAKE, 1);
    }
  }

  /**
   * Spinning pays off only while the peer it waits for can run beside it: at least two cores free
   * of other processes' threads, and no more of ours awake than there are free cores.
   */
  allowed(): boolean {
    const g = threadGate();
    const free = Atomics.load(g, G_CORES) - Atomics.load(g, G_BUSY_ELSEWHERE);
    return free >= 2 && Atomics.load(g, G_AWAKE) <= free;
  }

  /** Whether a consumer with `policy` may spin now at all: spinning is on for it and allowed. */
  allowedFor(policy: SpinPolicy): boolean {
    return policy.spinMicros !== 0 && this.allowed();
  }

  add(t: SpinningConsumer): void {
    t.spinSince = now();
    if (!this.spinning.includes(t)) this.spinning.push(t);
    this.schedule();
  }

  /**
   * Spin once the microtask queue has settled, so replies that handlers queued are sent first: a
   * nextTick queued from a microtask (the turn's end work, turn-end.ts, which flushes those replies
   * first) runs right after the queue drains. Chaining this way skips an
   * event-loop pass per round trip, but only for CHAIN_MICROS; then setImmediate lets timers and
   * I/O run.
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (now() - this.chainStart < CHAIN_MICROS) atTurnEnd(this.tickRun);
    else setImmediate(this.freshRun);
  }

  private chainStart = -Infinity;
  private readonly tickRun = (): void => {
    process.nextTick(this.run);
  };
  private readonly freshRun = (): void => {
    this.chainStart = now();
    this.run();
  };

  remove(t: SpinningConsumer): void {
    const i = this.spinning.indexOf(t);
    if (i >= 0) this.spinning.splice(i, 1);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    const list = this.spinning;
    if (!this.allowed()) {
      for (const t of list.splice(0)) t.park();
      return;
    }
    for (let i = 1; list.length > 0; i++) {
      for (let k = 0; k < list.length; k++) {
        if (list[k]!.hasWork()) return this.drainReady();
      }
      if ((i & 63) === 0) {
        const t0 = now();
        for (let k = list.length - 1; k >= 0; k--) {
          const t = list[k]!;
          if (t0 - t.spinSince >= t.spinPolicy.budget) {
            list.splice(k, 1);
            t.spinPolicy.missed(t0 - t.spinSince);
            t.park();
          }
        }
      }
    }
  };

  private drainReady(): void {
    const list = this.spinning;
    if (list.length === 1) {
      // The usual case, one link spinning, found with input: no list built, no splice.
      const t = list.pop()!;
      t.spinPolicy.caught();
      t.drain();
      if (list.length > 0) this.schedule();
      return;
    }
    const ready = list.filter((t) => t.hasWork());
    for (const t of ready) this.remove(t);
    for (const t of ready) {
      t.spinPolicy.caught();
      t.drain();
    }
    if (this.spinning.length > 0) this.schedule();
  }
}

/** This thread's spinner. */
export const spinner = new ThreadSpinner();
