// Interrupting a script that runs in a worker apartment — even a synchronous `while (true) {}` —
// from any apartment. Only the main thread can do it: a node:inspector session with the NodeWorker
// domain sends Runtime.terminateExecution to the worker's target; the worker's JavaScript stops at
// once, its vm context keeps its state, and the thread goes on serving. The interrupted code's
// catch/finally do not run, so the service then asks the apartment to settle the interrupted call.
// Scripts run in a macrotask of their own, and the service stops only a run it claimed through the
// apartment's script gate (apartments/script-gate.ts), which keeps the stop inside that run's turn:
// that is what makes it safe in every apartment, async hooks on or off. Main apartment only.
import { Session } from 'node:inspector';
import type { Apartment } from '../../apartments/apartment.js';
import type { ControlClient } from '../../apartments/control-plane.js';
import { claimRun, claimedRunGranted, releaseClaim, runningRun, unclaimRun } from '../../apartments/script-gate.js';
import { ApartmentError } from '../../marshal/errors.js';
import { interruptDenied, type ScriptApartmentApi } from './script-service.js';

// One inspector session per process, kept for its lifetime: a second session that enables the
// NodeWorker domain after the first was disconnected is not told about new workers.
let session: Session | undefined;
const targets = new Map<string, string>();
const waiting = new Map<string, (sessionId: string) => void>();
/** Stops sent to workers, by message id: answered when the stopped call has completed. */
const stopping = new Map<number, () => void>();
let nextMessage = 1;
/** How long to wait for the inspector to attach to a worker. */
const ATTACH_TIMEOUT_MS = 5_000;
/** A hang guard: a worker answers a stop as soon as the stopped turn unwound. */
const STOP_ANSWER_TIMEOUT_MS = 60_000;
/** How many times to look again when the run seen ends before it is claimed. */
const CLAIM_ATTEMPTS = 5;
/** How many times to go from settling awaiting calls to stopping a run that appeared meanwhile. */
const SETTLE_ROUNDS = 5;
/** How often to look at the gate while a settling request is on its way. */
const RUN_POLL_MS = 5;

/** Whether `settling` answered first, or a run of engine `oid` appeared on the gate while it was on its way. */
async function settledOrRunning(settling: Promise<boolean>, gate: Int32Array, oid: number): Promise<'settled' | 'running'> {
  let answered = false;
  const done = settling.then(() => (answered = true), () => (answered = true));
  for (;;) {
    if (answered) return 'settled';
    if (runningRun(gate, oid) !== undefined) return 'running';
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, RUN_POLL_MS))]);
  }
}

/** Stops running scripts in worker apartments through the inspector. */
export class InterruptService {
  constructor(private readonly apartmentOf: (id: number) => ControlClient<ScriptApartmentApi>) {}

  /**
   * Interrupt the script engine `oid` of `apartment` if it is running a script now; true if it was.
   * `shown` is what the requester showed: the engine's grant from its proxy, or undefined when the
   * main apartment itself asks.
   */
  async interrupt(apartment: Apartment, oid: number, shown: string | undefined): Promise<boolean> {
    if (shown === '') throw interruptDenied(oid, apartment.label);
    // The settling apartment takes '' for the main apartment's own request (only it calls there).
    const grant = shown ?? '';
    const gate = apartment.scriptGate;
    const settler = this.apartmentOf(apartment.id);
    for (let round = 0; round < SETTLE_ROUNDS; round++) {
      let settling: Promise<boolean> | undefined;
      if (runningRun(gate, oid) === undefined) {
        // Not running synchronously: settle the calls whose script awaits (generation 0), which stops
        // nothing on the thread; the apartment itself checks that the requester holds a reference.
        // A run that starts before the apartment reads this request holds the request behind it
        // (a busy loop, for ever): then stop that run instead.
        settling = settler.interrupted(oid, 0, grant);
        if ((await settledOrRunning(settling, gate, oid)) === 'settled') return settling;
      }
      if (await this.stopRunning(apartment, oid, shown, grant)) {
        settling?.catch(() => undefined);
        return true;
      }
      // The run ended before it could be claimed: the request on its way may yet settle what awaits now.
      if (settling && (await settledOrRunning(settling, gate, oid)) === 'settled') return settling;
      settling?.catch(() => undefined);
    }
    // Runs kept starting and ending before they could be claimed: settle what awaits, if the apartment reads it.
    const last = settler.interrupted(oid, 0, grant);
    if ((await settledOrRunning(last, gate, oid)) === 'settled') return last;
    last.catch(() => undefined);
    return false;
  }

  /** Claim and stop the run of engine `oid` going on now; false when none could be claimed. */
  private async stopRunning(apartment: Apartment, oid: number, shown: string | undefined, grant: string): Promise<boolean> {
    const gate = apartment.scriptGate;
    const settler = this.apartmentOf(apartment.id);
    const sessionId = await this.target(threadOf(apartment));
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const run = runningRun(gate, oid);
      if (run === undefined) break;
      if (!claimRun(gate, run)) continue;
      // Claimed: the run's turn now ends only by the stop (or this release), wherever the script is.
      if (shown !== undefined && !claimedRunGranted(gate, shown)) {
        unclaimRun(gate, run);
        throw interruptDenied(oid, apartment.label);
      }
      try {
        // Once the stop has been dispatched on the thread (inside this run's turn, which the claim
        // holds open), the claim has done its work: either the stop lands in this turn, or Node
        // cancelled it because the run's own time limit struck at the same moment. Only in the
        // second case does the run reach its end still claimed, and then nothing else will come.
        await this.stop(sessionId, () => releaseClaim(gate));
      } finally {
        releaseClaim(gate);
      }
      // The claimed run was stopped (or ended by its own limit at that moment), whichever side
      // settles its call: the apartment's next script turn may have settled it before this arrives.
      await settler.interrupted(oid, run, grant);
      return true;
    }
    return false;
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
      session.on('NodeWorker.receivedMessageFromWorker', ({ params }) => {
        const answered = answerId(params.message);
        if (answered === undefined) return;
        stopping.get(answered)?.();
        stopping.delete(answered);
      });
      session.on('NodeWorker.detachedFromWorker', ({ params }) => {
        for (const [worker, id] of targets) if (id === params.sessionId) targets.delete(worker);
      });
      void this.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    }
    return found;
  }

  /**
   * Stop the JavaScript running on a worker; resolves once the worker answered, which V8 does when the
   * stopped call has unwound, or, when Node cancelled the stop because the run's own time limit struck
   * first, when the turn it was dispatched in ends. `dispatched` is called as soon as the stop has been
   * dispatched on the worker: a probe sent right behind it is answered then (the inspector answers
   * in order, and a probe needs no JavaScript), while the stop's own answer may wait for the turn.
   */
  private async stop(sessionId: string, dispatched: () => void): Promise<void> {
    const stopId = nextMessage++;
    const probeId = nextMessage++;
    const timers: NodeJS.Timeout[] = [];
    const answerOf = (messageId: number): Promise<void> =>
      new Promise<void>((resolve) => {
        stopping.set(messageId, resolve);
        const timer = setTimeout(resolve, STOP_ANSWER_TIMEOUT_MS);
        timer.unref();
        timers.push(timer);
      });
    const stopped = answerOf(stopId);
    const probed = answerOf(probeId).then(dispatched);
    try {
      await this.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id: stopId, method: 'Runtime.terminateExecution' }) });
      await this.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id: probeId, method: 'Runtime.getIsolateId' }) });
      await Promise.all([stopped, probed]);
    } finally {
      for (const timer of timers) clearTimeout(timer);
      stopping.delete(stopId);
      stopping.delete(probeId);
    }
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

/** The id of a worker's answer to one of our messages (events carry none). */
function answerId(message: string): number | undefined {
  try {
    const id = (JSON.parse(message) as { id?: unknown }).id;
    return typeof id === 'number' ? id : undefined;
  } catch {
    return undefined;
  }
}
