// Runs the engine's pieces of script work ("runs") one at a time on the engine's thread, each in a
// message-event task of a private channel. Why a message event: an interrupt terminates the whole
// JavaScript stack of the task it hits, so the run must be a task of its own, not code inside the
// caller's call (the caller's frame would vanish with it) nor a microtask (V8 empties the microtask
// queue on termination) nor an immediate (Node 20's immediate queue does not recover from it).
// After each run a second message checks whether the run ended; if it did not, it was terminated,
// and the runner settles it so its caller gets an error instead of waiting forever.
import { MessageChannel, threadId } from 'node:worker_threads';
import { CallCanceledError } from '../errors.js';
import type { ScriptRunControl } from './run-control.js';

interface Run {
  readonly id: number;
  readonly body: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  word: number | undefined;
  ended: boolean;
}

/** The engine's queue of script runs; owner thread only. */
export class SectionRunner {
  private readonly channel = new MessageChannel();
  private readonly runs = new Map<number, Run>();
  private nextId = 1;
  private closed = false;

  /**
   * @param control the shared control block the runs are published in
   * @param onTerminated called on the engine's thread after a run was cut short by an interrupt
   */
  constructor(private readonly control: ScriptRunControl, private readonly onTerminated: () => void) {
    this.channel.port2.on('message', (message: { id: number; step: 'run' | 'check' }) => this.step(message));
    this.channel.port2.unref();
  }

  /** Queues `body` as one run; resolves with what it returned, rejects with what it threw. */
  run<T>(body: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new CallCanceledError('[script-engine-closed] the engine was closed before this script work ran; create or clone another engine'));
    return new Promise<T>((resolve, reject) => {
      const id = this.nextId++;
      this.runs.set(id, { id, body, resolve: resolve as (v: unknown) => void, reject, word: undefined, ended: false });
      this.channel.port2.ref();
      this.channel.port1.postMessage({ id, step: 'run' });
      this.channel.port1.postMessage({ id, step: 'check' });
    });
  }

  /** Stops accepting runs and cancels the queued ones. */
  close(): void {
    this.closed = true;
    for (const run of this.runs.values()) run.reject(new CallCanceledError('[script-engine-closed] the engine was closed before this script work ran; create or clone another engine'));
    this.runs.clear();
    this.channel.port1.close();
    this.channel.port2.close();
  }

  private step(message: { id: number; step: 'run' | 'check' }): void {
    const run = this.runs.get(message.id);
    if (run === undefined) return;
    if (message.step === 'run') {
      this.execute(run);
      return;
    }
    this.runs.delete(run.id);
    if (this.runs.size === 0) this.channel.port2.unref();
    if (run.ended || run.word === undefined) return;
    // The run started and never ended: a termination unwound it.
    this.control.settleTerminated(run.word);
    run.reject(new CallCanceledError('[script-interrupted] the script was interrupted; the engine is usable again, call it or send the next event'));
    this.onTerminated();
  }

  private execute(run: Run): void {
    run.word = this.control.enter(threadId);
    let value: unknown;
    let failure: unknown;
    let failed = false;
    try {
      value = run.body();
    } catch (error) {
      failed = true;
      failure = error;
    }
    this.control.leave(run.word);
    run.ended = true;
    if (failed) run.reject(failure as Error);
    else run.resolve(value);
  }
}
