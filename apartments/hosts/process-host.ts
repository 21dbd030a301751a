// Apartments hosted by child processes of this one, the out-of-process server of VB6 and DCOM: a
// crash there (a native addon's SIGSEGV, an out-of-memory abort, process.exit) ends only that
// process. This host owns the fork (Node flags, the heap cap, the IPC channel with structured-clone
// serialization), the hand-over of the boot record once the child listens, the heartbeat that
// finds a hung process, the tail of the child's stderr for the fault message, and the rule that a
// child never outlives its host. One apartment per process for now: a process name is taken
// while its process runs. Main thread only.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { claimIpcEnd } from '../../marshal/transports/ipc-link.js';
import { IpcTag, isIpc, type IpcTransport } from '../../marshal/transports/ipc-transport.js';
import type { ApartmentHost, ApartmentHostFactory, HostStart } from '../apartment-host.js';
import { HEARTBEAT_FD, HeartbeatWatch, type Heartbeat } from './heartbeat-pipe.js';

export type { Heartbeat } from './heartbeat-pipe.js';


/** What a process apartment's host is told besides the start record. */
export interface ProcessHostSettings {
  /** The process server's name, for logs; one apartment per name while its process runs. */
  readonly name: string;
  readonly heartbeat: Heartbeat;
}

/** How much of the child's stderr the fault message quotes (its end: where the crash is reported). */
const STDERR_TAIL_CHARS = 2_000;
/** How long a child whose IPC channel closed may take to exit before it is killed. */
const DISCONNECT_GRACE_MS = 5_000;

/** Process names in use, with the host whose process runs under each. */
const runningNames = new Map<string, ProcessHost>();

/** Whether a process server named `name` is running now. */
export function processNameTaken(name: string): boolean {
  return runningNames.has(name);
}

/** Free `host`'s process name (not the name of a later process that took it over). */
function releaseName(name: string, host: ProcessHost): void {
  if (runningNames.get(name) === host) runningNames.delete(name);
}

/** Children of this process that have not ended: killed when this process exits. */
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** A factory of process hosts that fork `entry`, the child's composition root. */
export function processHosts(entry: URL, settings: ProcessHostSettings): ApartmentHostFactory {
  return (start) => new ProcessHost(entry, start, settings);
}

/** One apartment in one child process. */
class ProcessHost extends EventEmitter implements ApartmentHost {
  private child: ChildProcess | undefined;
  private pid: number | undefined;
  private stderrTail = '';
  /** The first line where V8 or Node reported a fatal error on stderr, if one did. */
  private fatalLine: string | undefined;
  private heartbeat: HeartbeatWatch | undefined;
  private keepAlive = true;
  private readonly exited: Promise<void>;
  private markExited!: () => void;

  constructor(private readonly entry: URL, private readonly starting: HostStart, private readonly settings: ProcessHostSettings) {
    super();
    this.exited = new Promise((resolve) => {
      this.markExited = resolve;
    });
  }

  get identity(): string {
    return this.pid === undefined ? 'a process not started yet' : `process ${this.pid}`;
  }

  get threadId(): number | undefined {
    return undefined;
  }

  start(): void {
    if (this.child) return;
    const near = claimIpcEnd(this.starting.boot.link);
    if (!near) throw new Error(`[process-host] the apartment's link is not an unclaimed 'ipc' link end; a process apartment needs transport 'ipc'`);
    // Shared memory cannot reach another process: the child makes its own script gate.
    const { scriptGate: _notShared, ...boot } = this.starting.boot;
    const child = fork(this.entry, [], {
      serialization: 'advanced',
      // The heartbeat has a pipe of its own at HEARTBEAT_FD, answered by a thread of its own there.
      stdio: ['ignore', 'inherit', 'pipe', 'ipc', 'pipe'],
      execArgv: childExecArgv(this.starting.resourceLimits?.maxOldGenerationSizeMb),
    });
    this.child = child;
    this.pid = child.pid;
    runningNames.set(this.settings.name, this);
    liveChildren.add(child);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      // The child's diagnostics stay visible where a worker's would be; the end is kept for the fault.
      process.stderr.write(chunk);
      const text = this.stderrTail + chunk;
      // V8's fatal line (out of memory) comes before a long native stack that pushes it out of the tail.
      this.fatalLine ??= /^FATAL ERROR: .*$/m.exec(text)?.[0];
      this.stderrTail = text.slice(-STDERR_TAIL_CHARS);
    });
    child.on('message', (message) => this.fromChild(message, boot, near));
    child.on('error', (err) => this.emit('error', err));
    child.once('disconnect', () => {
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, DISCONNECT_GRACE_MS).unref();
    });
    // 'close' comes after the process ended and its stderr was read to the end.
    child.once('close', (code, signal) => this.ended(code, signal));
    this.applyKeepAlive();
  }

  ref(): void {
    this.keepAlive = true;
    this.applyKeepAlive();
  }

  unref(): void {
    this.keepAlive = false;
    this.applyKeepAlive();
  }

  async terminate(): Promise<void> {
    if (!this.child) return;
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  private fromChild(message: unknown, boot: object, near: IpcTransport): void {
    const child = this.child!;
    // The child runs untrusted plugins: a second hello is ignored, anything unknown too.
    if (isIpc(message, IpcTag.Hello) && !this.heartbeat) {
      // The child listens now: the boot record first, then what the runtime already sent.
      child.send([IpcTag.Boot, boot], undefined, undefined, () => undefined);
      near.open(child);
      this.startHeartbeat();
    }
  }

  private startHeartbeat(): void {
    const pipe = this.child!.stdio[HEARTBEAT_FD] as (Readable & Writable) | null | undefined;
    if (!pipe) return;
    const { periodMs, misses } = this.settings.heartbeat;
    this.heartbeat = new HeartbeatWatch(pipe, this.settings.heartbeat, () => {
      // The name is free for a replacement at once: this process is being killed.
      releaseName(this.settings.name, this);
      this.emit('error', new Error(`${this.identity} answered none of the last ${misses} heartbeats (one every ${periodMs} ms): it is hung or stopped, so it was killed`));
      this.child?.kill('SIGKILL');
    });
  }

  private applyKeepAlive(): void {
    const child = this.child;
    if (!child) return;
    const handles = [child, child.channel, child.stderr, child.stdio[HEARTBEAT_FD]] as ({ ref?(): void; unref?(): void } | null | undefined)[];
    for (const handle of handles) {
      if (this.keepAlive) handle?.ref?.();
      else handle?.unref?.();
    }
  }

  private ended(code: number | null, signal: NodeJS.Signals | null): void {
    this.heartbeat?.stop();
    liveChildren.delete(this.child!);
    releaseName(this.settings.name, this);
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const tail = this.stderrTail.trim();
    const fatal = this.fatalLine && !tail.includes(this.fatalLine) ? `; it reported ${this.fatalLine}` : '';
    const description = `${this.identity} ${how}${fatal}${tail ? `; its stderr ended with: ${tail}` : ''}`;
    this.markExited();
    this.emit('exit', code ?? 128 + (signal ? constants.signals[signal] ?? 0 : 0), description);
  }
}

/**
 * The child inherits the host's Node flags (TypeScript loaders, source maps), except those that
 * would run other code instead of the composition root or fight over the inspector's port. The
 * heap cap comes last, so it wins over an inherited one.
 */
function childExecArgv(maxOldGenerationSizeMb: number | undefined): string[] {
  const argv = process.execArgv;
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-e' || a === '-p' || a === '--eval' || a === '--print' || a === '--input-type') {
      i++;
      continue;
    }
    if (/^--(input-type|eval|print|inspect[a-z-]*)(=|$)/.test(a)) continue;
    out.push(a);
  }
  if (maxOldGenerationSizeMb !== undefined) out.push(`--max-old-space-size=${maxOldGenerationSizeMb}`);
  return out;
}
