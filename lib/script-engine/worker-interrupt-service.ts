// The main thread's half of interrupting scripts in workers. A node:inspector session with the
// NodeWorker domain is attached to every worker; Runtime.terminateExecution sent to a worker's
// target stops whatever JavaScript that worker runs — even `while (true) {}` — and the worker goes
// on serving with its vm contexts as they were. Only the main thread can hold such a session for
// its workers, so requests from other threads arrive here over a broadcast channel.
// Main thread only; one service per process (see start()).
import { Session } from 'node:inspector';
import { BroadcastChannel, isMainThread } from 'node:worker_threads';
import { ApartmentError } from '../errors.js';
import { INTERRUPT_SERVICE_CHANNEL, type InterruptServiceRequest, setLocalInterruptDelivery } from './interrupt-request.js';
import { type ClaimedRun, ScriptRunControl } from './run-control.js';

/** Delivers claimed interrupts to worker threads; main thread only. */
export class WorkerInterruptService {
  private static running: WorkerInterruptService | undefined;
  private readonly targets = new Map<number, string>();
  private readonly attachWaiters = new Map<number, (() => void)[]>();
  private readonly requests = new BroadcastChannel(INTERRUPT_SERVICE_CHANNEL);
  private nextMessage = 1;

  private constructor(private readonly session: Session) {
    session.on('NodeWorker.attachedToWorker', ({ params }) => {
      const worker = threadIdOf(params.workerInfo.title);
      if (worker === undefined) return;
      this.targets.set(worker, params.sessionId);
      for (const wake of this.attachWaiters.get(worker) ?? []) wake();
      this.attachWaiters.delete(worker);
    });
    session.on('NodeWorker.detachedFromWorker', ({ params }) => {
      for (const [worker, id] of this.targets) if (id === params.sessionId) this.targets.delete(worker);
    });
    this.requests.onmessage = (event) => void this.serve((event as MessageEvent).data as InterruptServiceRequest);
    this.requests.unref();
  }

  /**
   * Starts the service, or returns the one running. Start it before the workers whose scripts it
   * must stop are busy: a worker is attached when the domain is enabled or when it starts, and
   * attaching to a thread stuck in a loop does not complete.
   */
  static async start(): Promise<WorkerInterruptService> {
    if (!isMainThread) throw new ApartmentError('E_UNEXPECTED', '[interrupt-service] the interrupt service runs on the main thread only; start it there');
    if (WorkerInterruptService.running) return WorkerInterruptService.running;
    const session = new Session();
    session.connect();
    const service = new WorkerInterruptService(session);
    WorkerInterruptService.running = service;
    await service.post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    setLocalInterruptDelivery((control, claim) => service.deliver(control, claim));
    return service;
  }

  /** The thread ids this service can interrupt now. */
  attachedThreads(): number[] {
    return [...this.targets.keys()];
  }

  /**
   * Resolves true once worker `threadId` is attached (false after `timeoutMs`). Hosts wait for this
   * before a worker runs untrusted scripts: attachment is asynchronous and never completes while
   * the worker is already stuck in a loop.
   */
  whenAttached(threadId: number, timeoutMs = 5_000): Promise<boolean> {
    if (this.targets.has(threadId)) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const waiters = this.attachWaiters.get(threadId) ?? [];
      waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
      this.attachWaiters.set(threadId, waiters);
    });
  }

  /** Stops the service; interrupts requested afterwards report 'unsupported'. */
  close(): void {
    if (WorkerInterruptService.running !== this) return;
    WorkerInterruptService.running = undefined;
    setLocalInterruptDelivery(undefined);
    this.requests.close();
    this.session.disconnect();
  }

  /** Terminates the claimed run's thread; false when that thread is not attached. */
  async deliver(control: ScriptRunControl, claim: ClaimedRun): Promise<boolean> {
    const sessionId = this.targets.get(claim.threadId);
    if (sessionId === undefined || !control.isStillClaimed(claim)) return false;
    await this.post('NodeWorker.sendMessageToWorker', {
      sessionId,
      message: JSON.stringify({ id: this.nextMessage++, method: 'Runtime.terminateExecution' }),
    });
    return true;
  }

  private async serve(request: InterruptServiceRequest): Promise<void> {
    let delivered = false;
    try {
      delivered = await this.deliver(new ScriptRunControl(request.control), request.claim);
    } catch {
      delivered = false;
    }
    const answer = new BroadcastChannel(request.reply);
    answer.postMessage(delivered);
    answer.close();
  }

  private post(method: string, params: object): Promise<unknown> {
    return new Promise((resolve, reject) => {
      (this.session as unknown as { post(m: string, p: object, cb: (e: Error | null, r: unknown) => void): void })
        .post(method, params, (error, result) => (error ? reject(error) : resolve(result)));
    });
  }
}

// The inspector numbers its worker targets in attach order, which is not the thread id when workers
// start concurrently; Node puts the thread id in the target's title: "[worker <threadId>] <name>".
function threadIdOf(title: string): number | undefined {
  const match = /^\[worker (\d+)\]/.exec(title);
  return match ? Number(match[1]) : undefined;
}
