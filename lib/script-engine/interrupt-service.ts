// Interrupting a script that runs in a worker apartment — even a synchronous `while (true) {}` —
// from any apartment. Only the main thread can do it: a node:inspector session with the NodeWorker
// domain sends Runtime.terminateExecution to the worker's target; the worker's JavaScript stops at
// once, its vm context keeps its state, and the thread goes on serving. The interrupted code's
// catch/finally do not run, so the service then asks the apartment to settle the interrupted call.
// Scripts run in a macrotask of their own with the apartment's script gate naming the engine, and
// the service interrupts only while the gate names it. Main apartment only.
import { Session } from 'node:inspector';
import type { Apartment } from '../../apartments/apartment.js';
import type { ControlClient } from '../../apartments/control-plane.js';
import { asyncContextWithoutHooks } from '../../apartments/node-features.js';
import { ApartmentError } from '../../marshal/errors.js';
import type { ScriptApartmentApi } from './script-service.js';

// One inspector session per process, kept for its lifetime: a second session that enables the
// NodeWorker domain after the first was disconnected is not told about new workers.
let session: Session | undefined;
const targets = new Map<string, string>();
const waiting = new Map<string, (sessionId: string) => void>();
let nextMessage = 1;
/** How long to wait for the inspector to attach to a worker. */
const ATTACH_TIMEOUT_MS = 5_000;

/** Stops running scripts in worker apartments through the inspector. */
export class InterruptService {
  constructor(private readonly apartmentOf: (id: number) => ControlClient<ScriptApartmentApi>) {}

  /** Interrupt the script engine `oid` of `apartment` if it is running a script now; true if it was. */
  async interrupt(apartment: Apartment, oid: number): Promise<boolean> {
    const gate = apartment.scriptGate;
    // Not running synchronously: settle the calls whose script awaits (generation 0), which stops
    // nothing on the thread and so is safe in every apartment.
    if (Atomics.load(gate, 0) !== oid) return this.apartmentOf(apartment.id).interrupted(oid, 0);
    if (!(await interruptSafe(apartment))) {
      throw new ApartmentError('E_UNEXPECTED', `[interrupt-unsafe] ${apartment.label} follows calls across awaits with async hooks (this Node's AsyncLocalStorage uses them), and stopping a script there would abort its thread; host interruptible engines in an apartment created with { asyncCausality: false }, or run on a Node whose AsyncLocalStorage needs no async hooks (Node 24)`);
    }
    const generation = Atomics.load(gate, 1);
    const sessionId = await this.target(threadOf(apartment));
    if (Atomics.load(gate, 0) !== oid || Atomics.load(gate, 1) !== generation) return false;
    await this.post('NodeWorker.sendMessageToWorker', {
      sessionId,
      message: JSON.stringify({ id: nextMessage++, method: 'Runtime.terminateExecution' }),
    });
    return this.apartmentOf(apartment.id).interrupted(oid, generation);
  }

  /**
   * Attach to a script-hosting apartment's thread now, while it is idle: attaching to a thread that
   * is already stuck in a busy loop never completes.
   */
  async watch(apartment: Apartment): Promise<void> {
    await this.target(threadOf(apartment));
  }

  /** The inspector session id of worker `threadId`, attaching to workers on first use. */
  private target(threadId: string): Promise<string> {
    const known = targets.get(threadId);
    if (known) return Promise.resolve(known);
    const found = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(threadId);
        reject(new ApartmentError('E_UNEXPECTED', `[interrupt-unavailable] the inspector did not attach to thread ${threadId}; scripts there cannot be interrupted (is another debugger attached?)`));
      }, ATTACH_TIMEOUT_MS);
      timer.unref();
      waiting.set(threadId, (id) => {
        clearTimeout(timer);
        resolve(id);
      });
    });
    if (!session) {
      session = new Session();
      session.connect();
      session.on('NodeWorker.attachedToWorker', ({ params }) => {
        // workerInfo.workerId is the inspector's own counter; the title starts "[worker <threadId>]".
        const threadId = /^\[worker (\d+)\]/.exec(params.workerInfo.title)?.[1];
        if (threadId === undefined) return;
        targets.set(threadId, params.sessionId);
        waiting.get(threadId)?.(params.sessionId);
        waiting.delete(threadId);
      });
      session.on('NodeWorker.detachedFromWorker', ({ params }) => {
        for (const [worker, id] of targets) if (id === params.sessionId) targets.delete(worker);
      });
      void this.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    }
    return found;
  }

  private post(method: string, params: object): Promise<unknown> {
    return new Promise((resolve, reject) => {
      (session as unknown as { post(m: string, p: object, cb: (e: Error | null, r: unknown) => void): void })
        .post(method, params, (err, result) => (err ? reject(err) : resolve(result)));
    });
  }
}

/** The inspector reaches only worker threads of this process: the apartment's host must be one. */
function threadOf(apartment: Apartment): string {
  const id = apartment.threadId;
  if (id === undefined) {
    throw new ApartmentError('E_UNEXPECTED', `[interrupt-unavailable] ${apartment.label} is hosted by ${apartment.hostIdentity}, not by a thread of this process; scripts there cannot be interrupted`);
  }
  return String(id);
}

/**
 * Whether the inspector may stop a script on the apartment's thread: where the apartment does not
 * follow calls across awaits, or where it does so without async hooks (workers share the main
 * thread's Node flags, so the main thread's probe answers for them).
 */
async function interruptSafe(apartment: Apartment): Promise<boolean> {
  return !apartment.asyncCausality || (await asyncContextWithoutHooks());
}
