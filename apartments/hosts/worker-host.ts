// Apartments hosted by worker threads of this process: the host every runtime uses today. It owns
// the spawn (Node flags, resource limits, the thread's name) and the thread's place in the spin
// gate, which it gives back if the thread dies while spinning.
import { EventEmitter } from 'node:events';
import { MessageChannel, Worker } from 'node:worker_threads';
import { startEntropy } from '../../marshal/random-ids.js';
import { ipcRelayLink } from '../../marshal/transports/ipc-relay-link.js';
import { CreditedPortTransport } from '../../marshal/transports/credited-port-transport.js';
import { releaseAwakePlace } from '../../marshal/transports/thread-spinner.js';
import { environmentWithCompileCache } from './compile-cache.js';
import { threadExitMeaning } from '../thread-exits.js';
import type { ApartmentHost, ApartmentHostFactory, HostStart, RelayEnd } from '../apartment-host.js';
import type { WorkerBoot } from '../worker-boot.js';

/** A factory of worker thread hosts that run `entry`, the worker's composition root. */
export function workerHosts(entry: URL): ApartmentHostFactory {
  return (start) => new WorkerHost(entry, start);
}

/** One apartment on one worker thread. Main thread only. */
class WorkerHost extends EventEmitter implements ApartmentHost {
  private worker: Worker | undefined;
  /** Kept from the start: a Worker reports -1 once its thread has ended. */
  private thread: number | undefined;
  /** The thread's awake flag in the process-wide spin gate (thread-spinner.ts). */
  private readonly awakeFlag = new SharedArrayBuffer(4);
  private readonly exited: Promise<void>;
  private markExited!: () => void;

  constructor(private readonly entry: URL, private readonly starting: HostStart) {
    super();
    this.exited = new Promise((resolve) => {
      this.markExited = resolve;
    });
  }

  get identity(): string {
    return this.thread === undefined ? 'a thread not started yet' : `thread ${this.thread}`;
  }

  get threadId(): number | undefined {
    return this.thread;
  }

  start(): void {
    if (this.worker) return;
    const { boot, transfer, resourceLimits } = this.starting;
    const workerData: WorkerBoot = { ...boot, awakeFlag: this.awakeFlag, entropy: startEntropy() };
    const env = environmentWithCompileCache();
    const worker = new Worker(this.entry, {
      workerData,
      transferList: transfer,
      name: `apartment:${boot.name}`,
      ...workerExecArgv(),
      ...(env ? { env } : {}),
      ...(resourceLimits ? { resourceLimits } : {}),
    });
    this.worker = worker;
    this.thread = worker.threadId;
    worker.on('error', (err) => this.emit('error', err));
    worker.once('exit', (code) => {
      releaseAwakePlace(this.awakeFlag);
      this.markExited();
      const meaning = threadExitMeaning(code);
      this.emit('exit', code, meaning && `${this.identity} ended: ${meaning}`);
    });
  }

  /**
   * A MessageChannel whose far port the thread attaches with what the relay's other side can carry:
   * copies only. The thread counts what it takes, and the near end posts no more while too much
   * waits (what a relay posts comes from another process).
   */
  relayEnd(): RelayEnd {
    const { port1, port2 } = new MessageChannel();
    const taken = new SharedArrayBuffer(4);
    const near = new CreditedPortTransport(port1, taken);
    near.setKeepAlive(false);
    return { near, kind: ipcRelayLink.name, end: { relay: port2, taken }, transfer: [port2] };
  }

  ref(): void {
    this.worker?.ref();
  }

  unref(): void {
    this.worker?.unref();
  }

  async terminate(): Promise<void> {
    if (!this.worker) return;
    await this.worker.terminate();
    await this.exited;
  }
}

/**
 * Workers inherit the host's Node flags, but one started with --input-type or --eval fails before it
 * runs a line: then pass the flags without those (and without V8's process-wide flags, which apply to
 * every thread anyway and which Worker refuses in an explicit list). Otherwise inherit as they are.
 */
function workerExecArgv(): { execArgv?: string[] } {
  const argv = process.execArgv;
  if (!argv.some((a) => /^(--(input-type|eval|print)(=|$)|-e$|-p$)/.test(a))) return {};
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (/^--(input-type|eval|print)(=|$)/.test(a) || a === '-e' || a === '-p') {
      if (!a.includes('=') && (a === '-e' || a === '-p' || a === '--eval' || a === '--print' || a === '--input-type')) i++;
      continue;
    }
    if (/^--(expose[-_]gc|max[-_]old[-_]space[-_]size|max[-_]semi[-_]space[-_]size|stack[-_]size|jitless|allow[-_]natives[-_]syntax)/.test(a)) continue;
    out.push(a);
  }
  return { execArgv: out };
}
