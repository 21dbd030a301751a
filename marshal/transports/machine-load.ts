// How many cores the machine's other processes keep busy, measured over an interval: the CPU time
// the cores this process may run on spent busy (Linux: /proc/stat) less the CPU time this process
// used in the same interval (process.cpuUsage, every thread). The spin gate (thread-spinner.ts)
// samples it to stop spinning beside CPU-bound neighbours.
//
// Why time over an interval and not a count of running threads at one instant: this process's own
// threads, parked and woken for every call, flip between running and sleeping many times a
// millisecond, so "the machine's running threads less ours", read from two files a few
// microseconds apart, counted one of ours as someone else's again and again. On a quiet machine
// that kept spinning off for good (a sequential shared-memory call stuck at 90 µs instead of 5).
// Time spent busy cannot be caught in the act: ours is ours whenever it ran.
import { monotonicMs } from '../monotonic-clock.js';
import { outsideCalls } from '../outside-calls.js';

/** One reading: when, the busy and total ticks of each core we may run on, and our CPU time. */
export interface CpuReading {
  /** Milliseconds, monotonic. */
  readonly at: number;
  /** Busy ticks per core (all but idle and iowait), in the order of `total`. */
  readonly busy: readonly number[];
  /** All ticks per core. */
  readonly total: readonly number[];
  /** This process's CPU time, user and system, in µs. */
  readonly ours: number;
}

/**
 * The cores of a list such as `0-3,8,10-11` (Cpus_allowed_list in /proc/self/status); undefined
 * when the text is not such a list.
 */
export function parseCpuList(text: string): number[] | undefined {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to - from > 4096) return undefined;
    for (let c = from; c <= to; c++) out.push(c);
  }
  return out;
}

/**
 * Busy and total ticks of each core in `cores`, from the text of /proc/stat; undefined when a core
 * is missing or a line is not what the kernel writes.
 */
export function parseCoreTicks(stat: string, cores: readonly number[]): { busy: number[]; total: number[] } | undefined {
  const lines = new Map<number, string>();
  for (const line of stat.split('\n')) {
    const m = /^cpu(\d+)\s/.exec(line);
    if (m) lines.set(Number(m[1]), line);
  }
  const busy: number[] = [];
  const total: number[] = [];
  for (const core of cores) {
    const line = lines.get(core);
    if (line === undefined) return undefined;
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (f.length < 5 || f.some((x) => !Number.isFinite(x) || x < 0)) return undefined;
    const all = f.reduce((a, b) => a + b, 0);
    busy.push(all - f[3]! - f[4]!);
    total.push(all);
  }
  return { busy, total };
}

/**
 * Whole cores the other processes kept busy between two readings: the cores' busy share summed,
 * less the cores' worth of time this process used, rounded (the kernel counts in ticks of about
 * 10 ms, so a fraction is noise), never below 0.
 */
export function coresBusyElsewhere(before: CpuReading, after: CpuReading): number {
  const elapsedMs = after.at - before.at;
  if (!(elapsedMs > 0)) return 0;
  let machine = 0;
  for (let i = 0; i < after.total.length; i++) {
    const total = after.total[i]! - (before.total[i] ?? 0);
    if (total > 0) machine += Math.min(1, Math.max(0, (after.busy[i]! - (before.busy[i] ?? 0)) / total));
  }
  const ours = (after.ours - before.ours) / 1000 / elapsedMs;
  return Math.max(0, Math.round(machine - ours));
}

/** Takes readings of this machine (Linux); read() answers undefined where /proc cannot be read. */
export class MachineLoad {
  private readonly readFile: (path: string) => string;
  private cores: number[] | undefined;

  constructor(readFile: (path: string) => string) {
    this.readFile = readFile;
  }

  read(): CpuReading | undefined {
    try {
      // The cores we may run on are read once: a process rarely changes its own affinity.
      this.cores ??= parseCpuList(/Cpus_allowed_list:\s*(\S+)/.exec(this.readFile('/proc/self/status'))?.[1] ?? '');
      if (!this.cores) return undefined;
      const ticks = parseCoreTicks(this.readFile('/proc/stat'), this.cores);
      if (!ticks) return undefined;
      const cpu = process.cpuUsage();
      return { at: monotonicMs(), ...ticks, ours: cpu.user + cpu.system };
    } catch {
      return undefined;
    }
  }
}

/** How often a sampler measures while the runtime is in use, in ms. */
export const LOAD_SAMPLE_MS = 200;
/** How often it looks whether the runtime is in use again once it found it idle, in ms. */
export const IDLE_SAMPLE_MS = 2_000;
/** Periods a busy-elsewhere figure is the least of: a burst elsewhere must last to stop spinning. */
export const LOAD_SAMPLES = 3;

/** What a sampler asks and tells its owner. */
export interface LoadSamplerHooks {
  /** Whether the runtime was in use since the last call (a period that was not is not measured). */
  active(): boolean;
  /** The cores other processes kept busy, the least of the last LOAD_SAMPLES periods. */
  publish(cores: number): void;
}

/**
 * Measures every LOAD_SAMPLE_MS while the runtime is in use; once idle, only looks every
 * IDLE_SAMPLE_MS, until resume() says it is in use again. Each tick wakes the thread, and on a
 * virtual machine a wake-up is dear: an empty 200 ms timer beside an idle runtime added 1.3-1.5 ms
 * of CPU a second there (the means of three paired runs). Stops for good where no reading can be
 * taken. Owner thread only.
 */
export class LoadSampler {
  private readonly recent: number[] = [];
  private before: CpuReading | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private idle = false;

  constructor(private readonly load: Pick<MachineLoad, 'read'>, private readonly hooks: LoadSamplerHooks) {
    this.schedule(LOAD_SAMPLE_MS);
  }

  /** The runtime is in use: measure at the busy rate again, from the next period. */
  resume(): void {
    if (!this.idle || this.timer === undefined) return;
    this.idle = false;
    clearTimeout(this.timer);
    this.schedule(LOAD_SAMPLE_MS);
  }

  /** Stop sampling (the timer is unref'd, so a sampler never holds a process open anyway). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    // Outside calls: resume() runs inside whichever call woke a thread, and the timer re-arms
    // itself from its own callback, so it would hold that call's context for good (outside-calls.ts).
    this.timer = outsideCalls(() => setTimeout(this.tick, ms));
    this.timer.unref();
  }

  private readonly tick = (): void => {
    if (!this.hooks.active()) {
      this.before = undefined;
      this.idle = true;
      return this.schedule(IDLE_SAMPLE_MS);
    }
    this.idle = false;
    const after = this.load.read();
    if (after === undefined) {
      this.timer = undefined;
      return;
    }
    if (this.before !== undefined) {
      this.recent.push(coresBusyElsewhere(this.before, after));
      if (this.recent.length > LOAD_SAMPLES) this.recent.shift();
      this.hooks.publish(Math.min(...this.recent));
    }
    this.before = after;
    this.schedule(LOAD_SAMPLE_MS);
  };
}
