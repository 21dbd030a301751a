// One child process that runs one or more apartments: VB6's out-of-process component, named, made
// on first use. The first apartment runs on the child's main thread; later ones run on threads of
// the child (lib/process-threads.ts), so the assignment policies give VB6's three models inside one
// process. The server owns the child (Node flags, the heap cap, its message channel: a framed pipe
// that bounds what the child can make the host read, pipe-channel.ts), the hand-over of each boot record once the child listens, the heartbeat, the tail
// of the child's stderr for fault messages, and the rule that a child never outlives its host; it
// routes what the child says about each apartment to that apartment's host. A crash of the process
// ends every apartment in it. Main thread only.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { IdTable } from '../../marshal/id-table.js';
import { IpcTag, isIpc, type IpcTransport } from '../../marshal/transports/ipc-transport.js';
import { CHANNEL_FD, CHANNEL_VARIABLE, PipeChannel } from '../../marshal/transports/pipe-channel.js';
import { threadExitMeaning } from '../thread-exits.js';
import { environmentWithCompileCache } from './compile-cache.js';
import { HEARTBEAT_FD, HeartbeatWatch, type Heartbeat } from './heartbeat-pipe.js';

/** How much of the child's stderr a fault message quotes (its end: where the crash is reported). */
const STDERR_TAIL_CHARS = 2_000;
/** How long a child whose channel closed may take to exit before it is killed. */
const DISCONNECT_GRACE_MS = 5_000;
/**
 * The least time a child has to say hello before it counts as hung at its start (its heartbeat is
 * answered only from then on); a heartbeat's whole allowance when that is longer.
 */
const HELLO_GRACE_MS = 30_000;
/** How long after the child exited its stderr and heartbeat pipe may stay open (a grandchild holding them) before they are closed. */
const EXIT_STDIO_GRACE_MS = 1_000;
/** The most of the child's stderr waiting to be written to ours; beyond it, output is dropped (and the drop said). */
const STDERR_BACKLOG_BYTES = 1_048_576;

/** What the server tells one of its apartments' hosts. */
export interface ServedApartment {
  /** The apartment ended, with its exit code and a sentence saying how. */
  ended(code: number, description: string): void;
  /** Something failed that the apartment could not handle (the process hung, could not start). */
  failed(error: Error): void;
}

/** A boot record on its way to the child, once it listens. */
interface PendingBoot {
  readonly link: number;
  readonly boot: object;
  readonly resourceLimits: ResourceLimits | undefined;
  readonly near: IpcTransport;
}

/** Servers whose process runs, by name. */
const running = new Map<string, ProcessServer>();

/** Children of this process that have not ended: killed when this process exits. */
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** The running server called `name`, if any. */
export function runningServer(name: string): ProcessServer | undefined {
  return running.get(name);
}

/** A process server: one child process and the apartments in it, by link number. */
export class ProcessServer {
  private readonly child: ChildProcess;
  /** The message channel to the child (boot records, batches, ends), at its stdio slot CHANNEL_FD. */
  private readonly channel: PipeChannel;
  readonly pid: number | undefined;
  private readonly apartments = new Map<number, ServedApartment>();
  /** The link of the apartment on the child's main thread: the first to join. */
  private primary: number | undefined;
  private pending: PendingBoot[] | undefined = [];
  private stderrTail = '';
  /** The first line where V8 or Node reported a fatal error on stderr, if one did. */
  private fatalLine: string | undefined;
  private heartbeatWatch: HeartbeatWatch | undefined;
  /** Apartments that keep this process alive (ref), by link; toggled on every call, hence an IdTable. */
  private readonly keptAlive = new IdTable<true>();
  /** Whether the process's handles are ref'd now: they change only when that answer does. */
  private refd: boolean | undefined;
  private over = false;
  /** The process is being killed: its last apartment ended, or it hung. */
  private ending = false;
  private readonly helloTimer: NodeJS.Timeout;
  /** Characters of the child's stderr dropped since our stderr last had room. */
  private droppedStderr = 0;

  constructor(entry: URL, readonly name: string, readonly heartbeat: Heartbeat, maxOldGenerationSizeMb: number | undefined) {
    const env = { ...(environmentWithCompileCache() ?? process.env), [CHANNEL_VARIABLE]: String(CHANNEL_FD) };
    // Not fork(): its IPC channel would let the child's plugins send the host frames of any size.
    // The heartbeat has a pipe of its own at HEARTBEAT_FD, answered by a thread of its own there.
    const child = spawn(process.execPath, [...childExecArgv(maxOldGenerationSizeMb), fileURLToPath(entry)], {
      env,
      stdio: ['ignore', 'inherit', 'pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    this.pid = child.pid;
    this.channel = new PipeChannel(child.stdio[CHANNEL_FD] as Socket, this.identity);
    running.set(name, this);
    liveChildren.add(child);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      // The child's diagnostics stay visible where a worker's would be; the end is kept for the fault.
      // Never paused (its end must be read for the fault), so a stderr of ours that is not read
      // drops the child's output past a backlog instead of holding all of it.
      this.passStderr(chunk);
      const text = this.stderrTail + chunk;
      // V8's fatal line (out of memory) comes before a long native stack that pushes it out of the tail.
      // Bounded as the tail is: the child writes the line, and it may be as long as a chunk.
      this.fatalLine ??= boundedLine(/^FATAL ERROR: .*$/m.exec(text)?.[0]);
      this.stderrTail = text.slice(-STDERR_TAIL_CHARS);
    });
    this.channel.on('message', (message) => this.fromChild(message));
    this.channel.on('fault', (err) => {
      // The child broke the framing: nothing it sends can be trusted to be whole any more.
      this.kill();
      this.failAll(err);
    });
    child.on('error', (err) => {
      // It could not start: its name is free for a replacement the fault may start at once.
      this.ending = true;
      this.release();
      this.failAll(err);
    });
    const helloMs = Math.max(HELLO_GRACE_MS, heartbeat.periodMs * heartbeat.misses);
    this.helloTimer = setTimeout(() => {
      if (!this.pending || this.over) return;
      this.kill();
      this.failAll(new Error(`${this.identity} did not say hello within ${helloMs} ms of its start: it is hung or stopped before it could serve, so it was killed`));
    }, helloMs);
    this.helloTimer.unref();
    child.once('exit', () => {
      // 'close' waits for every stdio stream: a grandchild that inherited them would hold it back.
      setTimeout(() => {
        child.stderr?.destroy();
        (child.stdio[CHANNEL_FD] as Readable | null | undefined)?.destroy();
        (child.stdio[HEARTBEAT_FD] as Readable | null | undefined)?.destroy();
      }, EXIT_STDIO_GRACE_MS).unref();
    });
    this.channel.on('disconnect', () => {
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, DISCONNECT_GRACE_MS).unref();
    });
    // 'close' comes after the process ended and its stderr was read to the end.
    child.once('close', (code, signal) => this.ended(code, signal));
  }

  get identity(): string {
    return `process ${this.pid ?? '(not started)'}`;
  }

  /** Whether the process runs and is not being ended (an apartment may join). */
  get live(): boolean {
    return !this.over && !this.ending;
  }

  /** Run the apartment of link `link` in this process; its boot record goes out once the child listens. */
  join(apartment: ServedApartment, boot: PendingBoot): void {
    this.apartments.set(boot.link, apartment);
    this.primary ??= boot.link;
    this.keptAlive.set(boot.link, true);
    this.applyKeepAlive();
    if (this.pending) this.pending.push(boot);
    else this.sendBoot(boot);
  }

  /** Whether link `link`'s apartment runs on the child's main thread. */
  isPrimary(link: number): boolean {
    return this.primary === link;
  }

  /**
   * End the apartment of link `link` now. The last apartment of the process ends with the process;
   * another is ended by the child, and its end is reported as it happens (ended()).
   */
  terminate(link: number): void {
    const apartment = this.apartments.get(link);
    if (!apartment) return;
    if (this.apartments.size === 1) return this.kill();
    const waiting = this.pending?.findIndex((p) => p.link === link) ?? -1;
    if (waiting >= 0) {
      // Its boot record has not gone out (the child has not said hello): it never starts. A
      // Terminate would reach the child before the boot record and be ignored there.
      const [boot] = this.pending!.splice(waiting, 1);
      boot!.near.close();
      if (this.primary === link) this.primary = this.pending![0]?.link;
      this.endHere(link, 0, `the apartment was ended before ${this.identity} started it`);
      return;
    }
    this.channel.send([IpcTag.Terminate, link, null], undefined, undefined, () => undefined);
  }

  /**
   * Apartment `link` ended, as the child reported it, or ended here without its word (it never
   * started, or the child's main thread, which relays its end, is busy or stuck).
   */
  endHere(link: number, code: number, description: string): void {
    const apartment = this.apartments.get(link);
    if (!apartment) return;
    this.leave(link);
    apartment.ended(code, description);
  }

  /** Open `near`, a further link to the apartment on the main thread, on the child's channel; false before the child listens. */
  openLink(near: IpcTransport): boolean {
    if (this.pending || !this.live) return false;
    near.open(this.channel);
    return true;
  }

  /** Keep this process alive for apartment `link`, or stop doing so. */
  keepAlive(link: number, keep: boolean): void {
    if (keep) this.keptAlive.set(link, true);
    else this.keptAlive.delete(link);
    this.applyKeepAlive();
  }

  /** Kill the whole process (a hung apartment on its main thread cannot be ended alone); its name is free at once. */
  kill(): void {
    this.ending = true;
    this.release();
    this.child.kill('SIGKILL');
  }

  private sendBoot({ link, boot, resourceLimits, near }: PendingBoot): void {
    this.channel.send([IpcTag.Boot, link, { boot, resourceLimits }], undefined, undefined, () => undefined);
    near.open(this.channel);
  }

  private fromChild(message: unknown): void {
    // The child runs untrusted plugins: a second hello, an unknown link or tag are ignored.
    if (isIpc(message, IpcTag.Hello) && this.pending) {
      // The child listens now: the boot records first, then what the runtime already sent.
      const pending = this.pending;
      this.pending = undefined;
      clearTimeout(this.helloTimer);
      for (const boot of pending) this.sendBoot(boot);
      this.startHeartbeat();
    } else if (isIpc(message, IpcTag.Exited)) {
      const report = message[2] as { code?: unknown; description?: unknown } | null;
      const code = typeof report?.code === 'number' ? report.code : 1;
      const description = typeof report?.description === 'string' ? report.description.slice(0, STDERR_TAIL_CHARS) : `an apartment of ${this.identity} ended`;
      this.endHere(message[1], code, description);
    }
  }

  /** Apartment `link` is gone; a process left with none ends. */
  private leave(link: number): void {
    this.apartments.delete(link);
    this.keptAlive.delete(link);
    this.applyKeepAlive();
    if (this.apartments.size === 0) this.kill();
  }

  private startHeartbeat(): void {
    const pipe = this.child.stdio[HEARTBEAT_FD] as (Readable & Writable) | null | undefined;
    if (!pipe) return;
    const { periodMs, misses } = this.heartbeat;
    this.heartbeatWatch = new HeartbeatWatch(pipe, this.heartbeat, () => {
      // Killed first, so its name is free for a replacement that the fault may start at once.
      this.kill();
      this.failAll(new Error(`${this.identity} answered none of the last ${misses} heartbeats (one every ${periodMs} ms): it is hung or stopped, so it was killed`));
    });
  }

  private failAll(error: Error): void {
    everyOne([...this.apartments.values()], (apartment) => apartment.failed(error));
  }

  private passStderr(chunk: string): void {
    if (process.stderr.writableLength > STDERR_BACKLOG_BYTES) {
      this.droppedStderr += chunk.length;
      return;
    }
    if (this.droppedStderr > 0) {
      process.stderr.write(`[process-stderr] ${this.droppedStderr} characters of ${this.identity}'s stderr were dropped: this process's stderr is not being read\n`);
      this.droppedStderr = 0;
    }
    process.stderr.write(chunk);
  }

  private applyKeepAlive(): void {
    const keep = this.keptAlive.size > 0;
    if (keep === this.refd) return;
    this.refd = keep;
    const handles = [this.child, this.channel.channel, this.child.stderr, this.child.stdio[HEARTBEAT_FD]] as ({ ref?(): void; unref?(): void } | null | undefined)[];
    for (const handle of handles) {
      if (keep) handle?.ref?.();
      else handle?.unref?.();
    }
  }

  /** Free the server's name (not that of a later server that took it over). */
  private release(): void {
    if (running.get(this.name) === this) running.delete(this.name);
  }

  private ended(code: number | null, signal: NodeJS.Signals | null): void {
    this.over = true;
    clearTimeout(this.helloTimer);
    this.heartbeatWatch?.stop();
    liveChildren.delete(this.child);
    this.release();
    const meaning = threadExitMeaning(code);
    const how = signal ? `was killed by ${signal}` : meaning ? `ended: ${meaning}` : `exited with code ${code}`;
    const tail = this.stderrTail.trim();
    const fatal = this.fatalLine && !tail.includes(this.fatalLine) ? `; it reported ${this.fatalLine}` : '';
    const description = `${this.identity} ${how}${fatal}${tail ? `; its stderr ended with: ${tail}` : ''}`;
    const exitCode = code ?? 128 + (signal ? constants.signals[signal] ?? 0 : 0);
    const left = [...this.apartments.values()];
    this.apartments.clear();
    everyOne(left, (apartment) => apartment.ended(exitCode, description));
  }
}

/**
 * `fn` for each of `items`, even when it throws for one (a user's 'fault' listener may): the others
 * must still end, or their calls in flight would never settle. The first error is thrown after.
 */
function everyOne<T>(items: readonly T[], fn: (item: T) => void): void {
  let first: { error: unknown } | undefined;
  for (const item of items) {
    try {
      fn(item);
    } catch (error) {
      first ??= { error };
    }
  }
  if (first) queueMicrotask(() => {
    throw first.error;
  });
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

/** The most characters of a child's fatal line a fault quotes. */
const FATAL_LINE_CHARS = 300;

/** `line` cut at FATAL_LINE_CHARS, with '…' where it was cut. */
function boundedLine(line: string | undefined): string | undefined {
  return line !== undefined && line.length > FATAL_LINE_CHARS ? `${line.slice(0, FATAL_LINE_CHARS)}…` : line;
}
