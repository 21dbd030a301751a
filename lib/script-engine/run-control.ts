// The shared control block of one script engine: a few Int32 cells in a SharedArrayBuffer that
// any thread may read, so a thread other than the engine's can see whether script code is running
// (and which run), claim that run for an interrupt, and read the engine's state without a call.
//
// The run word packs a generation with a phase: (generation << 2) | phase. The engine's thread
// moves IDLE -> RUNNING(g) when a run starts and RUNNING(g) -> IDLE when it ends; an interrupter
// moves RUNNING(g) -> INTERRUPTING(g) with one compare-and-swap, so it can only ever claim the run
// it saw. An engine that finds its run claimed does not leave it: it spins until the termination
// lands, so a late interrupt can never hit the next run or unrelated code on that thread.
import { SCRIPT_ENGINE_STATES, type ScriptEngineState, stateIndex } from './engine-state.js';

const WORD = 0;
const RUN_THREAD = 1;
const STATE = 2;
const PENDING = 3;
const CELLS = 4;

const IDLE = 0;
const RUNNING = 1;
const INTERRUPTING = 2;
const GENERATION_MASK = 0x1fff_ffff;

/** How long the engine's thread waits for a claimed interrupt to land before giving up on it. */
const CLAIM_WAIT_MS = 1_000;

/** A structured-cloneable reference to an engine's control block; any thread may hold one. */
export interface ScriptInterruptHandle {
  readonly engineId: string;
  readonly control: SharedArrayBuffer;
}

/** A run that an interrupter claimed: the thread to terminate and the word it claimed. */
export interface ClaimedRun {
  readonly threadId: number;
  readonly word: number;
}

/** Typed access to a control block; the engine side methods are for the engine's thread only. */
export class ScriptRunControl {
  private readonly cells: Int32Array;

  constructor(readonly control: SharedArrayBuffer = new SharedArrayBuffer(CELLS * 4)) {
    this.cells = new Int32Array(control);
  }

  // ---- engine's thread only ----

  /** Marks a run as started on `threadId`; returns the word to hand back to leave(). */
  enter(threadId: number): number {
    const previous = Atomics.load(this.cells, WORD);
    const generation = ((previous >>> 2) + 1) & GENERATION_MASK;
    Atomics.store(this.cells, RUN_THREAD, threadId);
    const word = (generation << 2) | RUNNING;
    Atomics.store(this.cells, WORD, word);
    return word;
  }

  /**
   * Marks the run as ended. If an interrupter claimed it, waits (spinning: Atomics.wait is not
   * safe to terminate in Node 20) for the termination that is on its way, which unwinds this frame.
   */
  leave(word: number): void {
    const idle = (word & ~3) | IDLE;
    if (Atomics.compareExchange(this.cells, WORD, word, idle) === word) return;
    const claimed = (word & ~3) | INTERRUPTING;
    const giveUpAt = Date.now() + CLAIM_WAIT_MS;
    while (Atomics.load(this.cells, WORD) === claimed && Date.now() < giveUpAt) {
      // Spin: the interrupt service is delivering Runtime.terminateExecution to this thread.
    }
    Atomics.store(this.cells, WORD, idle);
  }

  /** After a run was cut short by a termination: clears the claim so the next run starts clean. */
  settleTerminated(word: number): void {
    Atomics.store(this.cells, WORD, (word & ~3) | IDLE);
  }

  /** Mirrors the engine's state for readers on other threads. */
  publishState(state: ScriptEngineState): void {
    Atomics.store(this.cells, STATE, stateIndex(state));
  }

  /** Mirrors how many invocations are waiting for script code to finish. */
  publishPending(count: number): void {
    Atomics.store(this.cells, PENDING, count);
  }

  // ---- any thread ----

  /** Claims the run in progress for an interrupt; undefined when no script code is running. */
  claim(): ClaimedRun | undefined {
    const word = Atomics.load(this.cells, WORD);
    if ((word & 3) !== RUNNING) return undefined;
    const threadId = Atomics.load(this.cells, RUN_THREAD);
    const claimed = (word & ~3) | INTERRUPTING;
    if (Atomics.compareExchange(this.cells, WORD, word, claimed) !== word) return undefined;
    return { threadId, word: claimed };
  }

  /** Gives a claim back when the termination could not be delivered; the run then ends normally. */
  release(claim: ClaimedRun): void {
    Atomics.compareExchange(this.cells, WORD, claim.word, (claim.word & ~3) | RUNNING);
  }

  /** True while the claimed run has not been settled by the engine's thread. */
  isStillClaimed(claim: ClaimedRun): boolean {
    return Atomics.load(this.cells, WORD) === claim.word;
  }

  /** True while script code of the engine is running (or a claimed run has not been settled). */
  isRunning(): boolean {
    return (Atomics.load(this.cells, WORD) & 3) !== IDLE;
  }

  /** The engine's state as last published by its thread. */
  state(): ScriptEngineState {
    return SCRIPT_ENGINE_STATES[Atomics.load(this.cells, STATE)] ?? 'uninitialized';
  }

  /** Invocations waiting for script code, as last published by the engine's thread. */
  pending(): number {
    return Atomics.load(this.cells, PENDING);
  }
}
