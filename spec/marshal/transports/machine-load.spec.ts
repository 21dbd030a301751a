import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { coresBusyElsewhere, IDLE_SAMPLE_MS, LOAD_SAMPLE_MS, LOAD_SAMPLES, LoadSampler, MachineLoad, parseCoreTicks, parseCpuList, type CpuReading } from '../../../marshal/transports/machine-load.js';

// What the spin gate learns of other processes: cores they kept busy over an interval, from
// /proc/stat less this process's own CPU time.

const STAT = [
  'cpu  900 0 300 2000 10 0 5 0 0 0',
  'cpu0 500 0 100 1000 5 0 3 0 0 0',
  'cpu1 400 0 200 1000 5 0 2 0 0 0',
  'cpu2 100 0 100 5000 0 0 0 0 0 0',
  'intr 12345 0 0',
].join('\n');

/** A reading of two cores `ms` after the start, with busy ticks per core and our CPU time in µs. */
function reading(ms: number, busy: number[], ours: number, ticksPerCore = ms / 10): CpuReading {
  return { at: ms, busy, total: busy.map(() => ticksPerCore), ours };
}

describe('marshal/transports/machine-load: reading the cores we may run on', () => {
  it('reads a Cpus_allowed_list', () => {
    expect(parseCpuList('0-1')).to.deep.equal([0, 1]);
    expect(parseCpuList('3')).to.deep.equal([3]);
    expect(parseCpuList('0,2-4,7\n')).to.deep.equal([0, 2, 3, 4, 7]);
  });

  it('refuses what is not such a list', () => {
    for (const bad of ['', 'a', '1-', '3-1', '0,,1', '0-99999']) expect(parseCpuList(bad), JSON.stringify(bad)).to.equal(undefined);
  });

  it("reads each listed core's busy and total ticks, idle and iowait not busy", () => {
    expect(parseCoreTicks(STAT, [0, 2])).to.deep.equal({ busy: [603, 200], total: [1608, 5200] });
  });

  it('answers undefined for a core the kernel does not list, or a line it would not write', () => {
    expect(parseCoreTicks(STAT, [0, 5])).to.equal(undefined);
    expect(parseCoreTicks('cpu0 1 2 x 4 5', [0])).to.equal(undefined);
    expect(parseCoreTicks('cpu0 1 2', [0])).to.equal(undefined);
  });

  it('takes a reading of this machine on Linux, and none where the files are not there', function () {
    if (process.platform === 'linux') {
      const r = new MachineLoad((path) => readFileSync(path, 'latin1')).read();
      expect(r, 'a reading').to.not.equal(undefined);
      expect(r!.busy.length).to.equal(r!.total.length).and.to.be.greaterThan(0);
      expect(r!.ours).to.be.greaterThan(0);
    }
    const none = new MachineLoad(() => {
      throw new Error('ENOENT');
    });
    expect(none.read()).to.equal(undefined);
  });
});

describe('marshal/transports/machine-load: cores busy elsewhere, from time spent busy', () => {
  it("does not count this process's own threads: busy time that is all ours is 0 cores elsewhere", () => {
    // Figures read on the 2-core development machine while a sequential call ping-ponged between
    // two parked threads of one process (machine 0.59-1.35 cores busy, this process 0.80-1.37):
    // the count of running threads had read one of ours as another process's, and kept spinning off.
    const pairs: Array<[number, number]> = [[1.16, 1.21], [0.74, 0.85], [0.59, 0.8], [1.35, 1.37], [0.95, 0.95], [1.24, 1.26]];
    for (const [machine, ours] of pairs) {
      const after = reading(200, [machine * 10, machine * 10], ours * 200_000);
      expect(coresBusyElsewhere(reading(0, [0, 0], 0, 0), after), `${machine} busy, ${ours} ours`).to.equal(0);
    }
  });

  it('counts a CPU-bound neighbour as one core beside this process, however busy this process is', () => {
    // Beside one spinning process the machine's two cores were busy 1.9-2.0 and this process 0.97-1.13.
    expect(coresBusyElsewhere(reading(0, [0, 0], 0, 0), reading(200, [20, 19], 1.03 * 200_000))).to.equal(1);
    expect(coresBusyElsewhere(reading(0, [0, 0], 0, 0), reading(200, [20, 20], 0))).to.equal(2);
  });

  it('is 0 for readings out of order or with no time between them', () => {
    const r = reading(200, [20, 20], 0);
    expect(coresBusyElsewhere(r, r)).to.equal(0);
    expect(coresBusyElsewhere(r, reading(100, [20, 20], 0))).to.equal(0);
  });
});

describe('marshal/transports/machine-load: a real neighbour process', () => {
  let hog: ChildProcess | undefined;
  afterEach(() => {
    hog?.kill('SIGKILL');
    hog = undefined;
  });

  it('shows a CPU-bound process as at least one core busy elsewhere (Linux; elsewhere no reading)', async () => {
    const load = new MachineLoad((path) => readFileSync(path, 'latin1'));
    if (process.platform !== 'linux') {
      expect(load.read(), 'no /proc, no reading').to.equal(undefined);
      return;
    }
    hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    await new Promise((resolve) => hog!.once('spawn', resolve));
    // Long enough for a whole number of the kernel's 10 ms ticks to say so on a loaded machine.
    const before = load.read()!;
    await new Promise((resolve) => setTimeout(resolve, 600));
    const after = load.read()!;
    expect(coresBusyElsewhere(before, after)).to.be.at.least(1);
  });
});

/** Readings 200 ms apart (20 ticks a core) in which other processes kept `cores[i]` of two cores busy. */
function readings(cores: number[]): () => CpuReading | undefined {
  let i = 0;
  let busy = 0;
  return () => {
    if (i > cores.length) return undefined;
    busy += (cores[i - 1] ?? 0) * 10;
    const r = reading(i * 200, [busy, busy], 0, i * 20);
    i++;
    return r;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('marshal/transports/machine-load: a sampler measures while the runtime is in use', () => {
  let sampler: LoadSampler | undefined;
  afterEach(() => {
    sampler?.stop();
    sampler = undefined;
  });

  it('publishes the least figure of the last LOAD_SAMPLES periods, so a burst elsewhere must last', async () => {
    const published: number[] = [];
    const figures = [0, 1, 1, 1, 0];
    sampler = new LoadSampler({ read: readings(figures) }, { active: () => true, publish: (c) => published.push(c) });
    await until(() => published.length === figures.length, LOAD_SAMPLE_MS);
    expect(LOAD_SAMPLES).to.equal(3);
    expect(published).to.deep.equal([0, 0, 0, 1, 0]);
  });

  it('takes no reading while the runtime is idle, looks again only every IDLE_SAMPLE_MS, and measures again on resume()', async () => {
    let reads = 0;
    let active = false;
    const published: number[] = [];
    sampler = new LoadSampler({ read: () => (reads++, reading(reads * 200, [reads * 20, reads * 20], 0, reads * 20)) }, { active: () => active, publish: (c) => published.push(c) });
    await sleep(3 * LOAD_SAMPLE_MS);
    expect(reads, 'readings while idle').to.equal(0);
    active = true;
    sampler.resume();
    await until(() => published.length >= 2, LOAD_SAMPLE_MS);
    expect(published.slice(0, 2), 'both cores busy elsewhere').to.deep.equal([2, 2]);
    expect(IDLE_SAMPLE_MS).to.be.greaterThan(LOAD_SAMPLE_MS * 5);
  });

  it('stops for good where no reading can be taken', async () => {
    let asked = 0;
    sampler = new LoadSampler({ read: () => undefined }, { active: () => (asked++, true), publish: () => expect.fail('nothing to publish') });
    await sleep(4 * LOAD_SAMPLE_MS);
    expect(asked, 'ticks before it stopped').to.equal(1);
  });
});

/** Wait (by polling, not by a deadline on speed) until `ready()` holds. */
async function until(ready: () => boolean, pollMs: number): Promise<void> {
  while (!ready()) await sleep(pollMs);
}
