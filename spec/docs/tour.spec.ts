// Every step of the tour, run small: its lesson holds, its trace keeps the invariants, and the
// files it writes are a valid trace-event document and a page that a real browser draws.
import { expect } from 'chai';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkChromeTrace } from '../../lib/index.js';
import { TOUR_STEPS } from '../../docs/tour/tour-steps.js';
import { resolveStepOptions, type StepOutcome, type TourStep } from '../../docs/tour/tour-step.js';
import { writeIndex, writeStep } from '../../docs/tour/tour-output.js';
import { REQUESTS } from '../../docs/tour/steps/round-robin.js';
import { expectTraceInvariants } from '../lib/trace/trace-invariants.js';
import { launchBrowser } from '../support/headless-browser.js';

/** Generated pages and screenshots: an ignored folder at the top of the repository. */
export const TOUR_SPEC_OUT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'spec-out', 'tour');

function step(name: string): TourStep {
  return TOUR_STEPS.find((s) => s.name === name)!;
}

/** Run a step with `options`, write its files, check what every step must keep; returns the outcome. */
async function runStep(name: string, options: Record<string, string>, page = name): Promise<StepOutcome> {
  const s = step(name);
  const outcome = await s.run(resolveStepOptions(s, options));
  expectTraceInvariants(outcome.trace);
  const files = writeStep(TOUR_SPEC_OUT, { ...s, name: page }, outcome, options);
  expect(checkChromeTrace(JSON.parse(readFileSync(files.json, 'utf8')))).to.deep.equal([]);
  return outcome;
}

const marks = (outcome: StepOutcome): string[] => outcome.trace.events.filter((e) => e.kind === 'Mark').map((e) => e.name);

before(() => {
  rmSync(TOUR_SPEC_OUT, { recursive: true, force: true });
  mkdirSync(TOUR_SPEC_OUT, { recursive: true });
});

describe('docs/tour: the apartment building', () => {
  it('runs every call on the lane of the object it calls', async () => {
    const outcome = await runStep('apartment-building', { flats: '2' });
    expect(outcome.facts.ranAtHome).to.equal(true);
    const homes = outcome.facts.homes as number[];
    const starts = outcome.trace.events.filter((e) => e.kind === 'Start' && e.name === 'visit');
    expect(starts).to.have.length(4);
    for (const s of starts) expect(homes).to.include(s.apartment);
  });
});

describe('docs/tour: one call chain at a time per object', () => {
  it('keeps the total under turn-based admission: each read is followed by its write', async () => {
    const outcome = await runStep('one-chain', { calls: '3' });
    expect(outcome.facts.total).to.equal(3);
    expect(marks(outcome)).to.deep.equal(['read total', 'write total', 'read total', 'write total', 'read total', 'write total']);
  });

  it('loses updates with --reentrant: every read comes before the first write', async () => {
    const outcome = await runStep('one-chain', { calls: '3', reentrant: 'yes' }, 'one-chain-reentrant');
    expect(outcome.facts.total).to.be.lessThan(3);
    const seen = marks(outcome);
    expect(seen.indexOf('write total')).to.be.greaterThan(seen.lastIndexOf('read total'));
  });
});

describe('docs/tour: the lost decrement', () => {
  it('under forced: each round is N reads then N writes, and every round loses N-1 releases', async () => {
    const outcome = await runStep('lost-decrement', { schedule: 'forced', racers: '3', rounds: '2' });
    const seen = marks(outcome).map((m) => m.split(' ')[0]);
    expect(seen).to.deep.equal(['read', 'read', 'read', 'write', 'write', 'write', 'read', 'read', 'read', 'write', 'write', 'write']);
    expect(outcome.facts.end).to.equal(6 - 2);
  });

  it('under atomic: the count ends at 0', async () => {
    const outcome = await runStep('lost-decrement', { schedule: 'atomic', racers: '3', rounds: '2' }, 'lost-decrement-atomic');
    expect(outcome.facts.end).to.equal(0);
    expect(marks(outcome).filter((m) => m === 'atomic decrement')).to.have.length(6);
  });

  it('under chance: every racer reads and writes each round, whatever the count ends at', async () => {
    const outcome = await runStep('lost-decrement', { schedule: 'chance', racers: '2', rounds: '2' }, 'lost-decrement-chance');
    expect(marks(outcome).filter((m) => m === 'read')).to.have.length(4);
    expect(marks(outcome).filter((m) => m === 'write')).to.have.length(4);
    expect(outcome.facts.end as number).to.be.within(0, 3);
  });
});

describe('docs/tour: free threading', () => {
  it('runs the calls of one object on two pool threads at once, whose ordinary fields diverge', async () => {
    const outcome = await runStep('free-threading', { threads: '2', rounds: '2' });
    expect(outcome.facts.used).to.equal(2);
    expect(outcome.facts.fields as number).to.be.lessThan(outcome.facts.shared as number);
  });

  it('runs them all on the one thread of a one-thread pool, whose field sees every call', async () => {
    const outcome = await runStep('free-threading', { threads: '1', rounds: '2' }, 'free-threading-one');
    expect(outcome.facts.used).to.equal(1);
    expect(outcome.facts.fields).to.equal(outcome.facts.shared);
  });
});

describe('docs/tour: rental', () => {
  it('runs the Notebook on one lane at a time, never two calls at once, and moves it only between calls', async () => {
    const outcome = await runStep('rental', { lessees: '3', writes: '2' });
    expect(outcome.facts).to.include({ lines: 6, lanes: 3 });
    expect((outcome.facts.turns as { found: number }[]).map((t) => t.found)).to.deep.equal([0, 2, 4]);
    const steps = outcome.trace.events.filter((e) => e.kind === 'Mark' && ['leased', 'write begin', 'write end', 'release asked', 'moved out'].includes(e.name));
    const writes = steps.filter((e) => e.name.startsWith('write'));
    expect(writes).to.have.length(12);
    for (let i = 0; i < writes.length; i += 2) {
      expect([writes[i]!.name, writes[i + 1]!.name], `call ${i / 2} ends before the next begins`).to.deep.equal(['write begin', 'write end']);
      expect(writes[i + 1]!.apartment, `call ${i / 2} on one lane`).to.equal(writes[i]!.apartment);
    }
    // Each holder's calls come together: the lane changes only between one holder's last call and the next one's first.
    const holders = [...new Set(writes.map((e) => e.apartment))];
    expect(holders).to.have.length(3);
    expect(writes.map((e) => e.apartment)).to.deep.equal(holders.flatMap((a) => [a, a, a, a]));
    // Each holder leased, wrote, asked to give it back during its last write, and the Notebook
    // moved out only after that write ended; the next holder leased it after that write too.
    for (const a of holders) {
      expect(steps.filter((e) => e.apartment === a).map((e) => e.name), `holder ${a}`).to.deep.equal(['leased', 'write begin', 'write end', 'write begin', 'release asked', 'write end', 'moved out']);
    }
    for (let k = 1; k < holders.length; k++) {
      const lastEnd = steps.findLastIndex((e) => e.apartment === holders[k - 1] && e.name === 'write end');
      expect(steps.findIndex((e) => e.apartment === holders[k] && e.name === 'leased'), `holder ${holders[k]} leased after ${holders[k - 1]}'s last call`).to.be.greaterThan(lastEnd);
    }
  });
});

describe('docs/tour: the round-robin thread pool', () => {
  it('puts object i on thread i mod 5, and the next object after releases on T3', async () => {
    const outcome = await runStep('round-robin', {});
    const placed = outcome.facts.placed as { thread: number }[];
    expect(placed.slice(0, REQUESTS.length).map((p) => p.thread)).to.deep.equal(REQUESTS.map((_, i) => (i % 5) + 1));
    expect(outcome.facts.next).to.equal(3);
  });
});

describe('docs/tour: thread per object', () => {
  it('gives each widget a thread of its own, which a dependent Sprocket keeps alive after the Widget is released', async () => {
    const outcome = await runStep('thread-per-object', {});
    const homes = outcome.facts.homes as number[];
    expect(new Set(homes).size).to.equal(2);
    expect(outcome.facts).to.include({ sprocketHome: homes[0], stateAfterWidgetReleased: 'ready', othersLive: 1 });
    // The Widget's apartment still exported the Sprocket after the Widget went, then nothing.
    expect(outcome.facts.exportsLeft).to.deep.equal([1, 0]);
    const home = outcome.trace.events.filter((e) => e.apartment === homes[0] && (e.kind === 'Start' || e.kind === 'Release') && !e.name.includes('.'));
    expect(home.map((e) => `${e.kind} ${e.kind === 'Start' ? e.name : e.extra}`)).to.deep.equal(['Start where', 'Start makeSprocket', 'Release 1', 'Start where', 'Release 0']);
  });

  it('lets the thread exit as soon as the Widget is released when it made no dependent', async () => {
    const outcome = await runStep('thread-per-object', { dependent: 'no', widgets: '3' }, 'thread-per-object-alone');
    expect(new Set(outcome.facts.homes as number[]).size).to.equal(3);
    expect(outcome.facts.exportsLeft).to.deep.equal([0]);
    expect(outcome.facts.othersLive).to.equal(2);
  });
});

describe('docs/tour: new vs createInstance vs external creation', () => {
  const where = (outcome: StepOutcome): number[] => (outcome.facts.placed as { where: number }[]).map((p) => p.where);

  it('keeps new and createInstance with the creator, and sends createObject to the single-thread apartment twice', async () => {
    const outcome = await runStep('creation', {});
    const maker = outcome.facts.maker as number;
    const [byNew, byInstance, external, again] = where(outcome);
    expect([byNew, byInstance]).to.deep.equal([maker, maker]);
    expect(external).to.not.be.oneOf([maker, 0]);
    expect(again).to.equal(external);
    // Every part's where() ran on the lane of the apartment it answered from.
    const starts = outcome.trace.events.filter((e) => e.kind === 'Start' && e.name === 'where').map((e) => e.apartment);
    expect(starts).to.deep.equal(where(outcome));
  });

  it('sends each external creation to a new apartment under thread-per-object', async () => {
    const outcome = await runStep('creation', { assignment: 'thread-per-object' }, 'creation-thread-per-object');
    const maker = outcome.facts.maker as number;
    const [byNew, byInstance, external, again] = where(outcome);
    expect([byNew, byInstance]).to.deep.equal([maker, maker]);
    expect(new Set([maker, 0, external, again]).size).to.equal(4);
  });

  it('sends a single class to the main apartment by createInstance and createObject; only new keeps it with the creator', async () => {
    const outcome = await runStep('creation', { contract: 'single' }, 'creation-single');
    expect(where(outcome)).to.deep.equal([outcome.facts.maker, 0, 0, 0]);
    expect(outcome.trace.events.filter((e) => e.kind === 'Export' && e.apartment === 0)).to.have.length(3);
  });
});

describe('docs/tour: apartment hooks attach and detach', () => {
  type HookFacts = { early: number; late: number; lateSaw: string[]; lanes: Record<number, string[]> };
  const detaches = (outcome: StepOutcome): number[] => outcome.trace.events.filter((e) => e.kind === 'Mark' && e.name.startsWith('detach')).map((e) => e.apartment);

  it('replays attach where apartments ran already, attaches a new one before its first call, and detaches each once on close', async () => {
    const outcome = await runStep('attach-detach', {});
    const { early, late, lateSaw, lanes } = outcome.facts as HookFacts;
    expect(lanes[0]).to.deep.equal(['attach', 'detach close']);
    expect(lanes[early]).to.deep.equal(['attach', 'first call', 'detach close']);
    // The new apartment attached while starting (traced from boot), before its first call, which found that attach done.
    expect(lanes[late]).to.deep.equal(['attach', 'first call', 'detach close']);
    expect(lateSaw).to.deep.equal(['attach']);
    expect(outcome.trace.events.find((e) => e.kind === 'Mark' && e.name === 'first call' && e.apartment === late)?.extra).to.equal(1);
    // Closing the runtime closes the worker apartments first, then the main one.
    expect(detaches(outcome)).to.deep.equal([early, late, 0]);
  });

  it('with --fault=yes: the crashed apartment detaches for the fault, once, and the others on close', async () => {
    const outcome = await runStep('attach-detach', { fault: 'yes' }, 'attach-detach-fault');
    const { early, late, lanes } = outcome.facts as HookFacts;
    expect(lanes[early]).to.deep.equal(['attach', 'first call', 'detach fault']);
    expect(lanes[late]).to.deep.equal(['attach', 'first call', 'detach close']);
    expect(lanes[0]).to.deep.equal(['attach', 'detach close']);
    expect(outcome.trace.events.filter((e) => e.kind === 'Fault').map((e) => e.apartment)).to.deep.equal([early]);
    expect(detaches(outcome)).to.deep.equal([early, late, 0]);
  });
});

describe('docs/tour: the script engine', () => {
  it("serves another apartment's call while free, and fails it once a site binds the engine", async () => {
    const outcome = await runStep('script-engine', {});
    expect(outcome.facts).to.include({ before: 'allowed', after: 'WrongThreadError' });
    expect(outcome.trace.events.filter((e) => e.kind === 'End' && e.name === 'addNamedItem').map((e) => e.extra)).to.deep.equal([1, 0]);
  });

  it('stays free when no site is set', async () => {
    const outcome = await runStep('script-engine', { site: 'none' }, 'script-engine-free');
    expect(outcome.facts).to.include({ before: 'allowed', after: 'allowed' });
  });
});

describe('docs/tour: a named mutex and named shared memory', () => {
  it('with the mutex: one creator, each read-then-write alone under the lock, no update lost, names released', async () => {
    const outcome = await runStep('named-sync', { sharers: '3', rounds: '2' });
    expect(outcome.facts).to.include({ created: 1, total: 6, lost: 0, releasedByName: true });
    const steps = outcome.trace.events.filter((e) => e.kind === 'LockAcquire' || e.kind === 'LockRelease' || (e.kind === 'Mark' && (e.name === 'read' || e.name === 'write')));
    expect(steps).to.have.length(6 * 4);
    for (let i = 0; i < steps.length; i += 4) {
      const turn = steps.slice(i, i + 4);
      expect(turn.map((e) => (e.kind === 'Mark' ? e.name : e.kind)), `turn ${i / 4}`).to.deep.equal(['LockAcquire', 'read', 'write', 'LockRelease']);
      expect(new Set(turn.map((e) => e.apartment)).size, `turn ${i / 4} on one lane`).to.equal(1);
      expect(turn[1]!.extra, `turn ${i / 4} read what the turn before wrote`).to.equal(i / 4);
    }
  });

  it('without the mutex: each round is N reads of one value then N writes, and N-1 updates per round are lost', async () => {
    const outcome = await runStep('named-sync', { mutex: 'no', sharers: '3', rounds: '2' }, 'named-sync-unguarded');
    expect(outcome.facts).to.include({ created: 1, total: 2, lost: 4, releasedByName: true });
    const seen = outcome.trace.events.filter((e) => e.kind === 'Mark' && (e.name === 'read' || e.name === 'write')).map((e) => `${e.name} ${e.extra}`);
    expect(seen).to.deep.equal(['read 0', 'read 0', 'read 0', 'write 1', 'write 1', 'write 1', 'read 1', 'read 1', 'read 1', 'write 2', 'write 2', 'write 2']);
    expect(outcome.trace.events.filter((e) => e.kind === 'LockAcquire')).to.have.length(0);
  });
});

describe('docs/tour: racing creators of a cache', () => {
  const kinds = (outcome: StepOutcome): string[] => outcome.trace.events.filter((e) => e.kind === 'Mark' || e.kind === 'LockAcquire' || e.kind === 'LockRelease').map((e) => (e.kind === 'Mark' ? e.name : e.kind));

  it('once: one racer builds, every racer uses its instance after it was built', async () => {
    const outcome = await runStep('cache-race', { strategy: 'once', racers: '3' });
    expect(outcome.facts).to.deep.include({ built: 1, discarded: 0 });
    expect(outcome.facts.used).to.have.length(1);
    const seen = kinds(outcome);
    expect(seen.filter((k) => k === 'using')).to.have.length(3);
    expect(seen.indexOf('built')).to.be.lessThan(seen.indexOf('using'));
  });

  it('locked: the first holder of the lock builds, the others take the lock after it and find the cache full', async () => {
    const outcome = await runStep('cache-race', { strategy: 'locked', racers: '3' }, 'cache-race-locked');
    expect(outcome.facts).to.deep.include({ built: 1, discarded: 0 });
    expect(outcome.facts.used).to.have.length(1);
    const turns = kinds(outcome).filter((k) => k !== 'using');
    expect(turns).to.deep.equal(['LockAcquire', 'built', 'LockRelease', 'LockAcquire', 'LockRelease', 'LockAcquire', 'LockRelease']);
  });

  it('discard: every racer looks before any publishes, so all build and all but one discard', async () => {
    const outcome = await runStep('cache-race', { strategy: 'discard', racers: '3' }, 'cache-race-discard');
    expect(outcome.facts).to.deep.include({ built: 3, discarded: 2 });
    expect(outcome.facts.used).to.have.length(1);
    const seen = kinds(outcome);
    expect(seen.lastIndexOf('looked')).to.be.lessThan(seen.indexOf('built'));
    expect(outcome.trace.events.filter((e) => e.name === 'looked').map((e) => e.extra)).to.deep.equal([0, 0, 0]);
  });
});

describe('docs/tour: the VM pool and a shared child library', () => {
  const library = (outcome: StepOutcome): string[] => outcome.trace.events.filter((e) => e.kind === 'Mark' && e.name.startsWith('library')).map((e) => (e.name === 'library used' ? `used ${e.extra}` : e.name));
  const scriptLanes = (outcome: StepOutcome): number[] => outcome.trace.events.filter((e) => e.kind === 'Mark' && e.name === 'script ran').map((e) => e.apartment);

  it("reuses the pool's VMs, loads the library for each wave's first user and unloads it after the wave's last VM is checked in", async () => {
    const outcome = await runStep('vm-pool', { vms: '2', users: '3' });
    expect(outcome.facts).to.deep.include({ vmsUsed: 2, loads: 2, unloads: 2, leasesAfterWave: [0, 0], leasesAtEnd: 0 });
    expect((outcome.facts.runs as { answer: string }[]).map((r) => r.answer)).to.deep.equal(['USER 1', 'USER 2', 'USER 3']);
    // A fresh instance after each unload: its count of calls starts again.
    expect(library(outcome)).to.deep.equal(['library loaded', 'used 1', 'used 2', 'library unloaded', 'library loaded', 'used 1', 'library unloaded']);
    const lanes = scriptLanes(outcome);
    expect(lanes).to.have.length(3);
    expect(new Set(lanes).size, 'the third script reused a VM').to.equal(2);
    expect(lanes).to.not.include(0);
  });

  it('keeps the library loaded between waves while the host holds a lease, and unloads it after its last user (--keep=yes)', async () => {
    const outcome = await runStep('vm-pool', { vms: '2', users: '3', keep: 'yes' }, 'vm-pool-keep');
    expect(outcome.facts).to.deep.include({ loads: 1, unloads: 1, leasesAfterWave: [1, 1], leasesAtEnd: 0 });
    expect(library(outcome)).to.deep.equal(['library loaded', 'used 1', 'used 2', 'used 3', 'library unloaded']);
  });
});

describe('docs/tour: a crashing plugin', () => {
  it('faults its apartment, fails the next call, and a replacement serves', async () => {
    const outcome = await runStep('crash-restart', {});
    expect(outcome.facts.before).to.equal(42);
    expect(['DisconnectedError', 'ApartmentFaultedError']).to.include(outcome.facts.afterCrash);
    expect(outcome.facts.replacementAnswer).to.equal(42);
    expect(outcome.trace.events.filter((e) => e.kind === 'Fault')).to.have.length(1);
    expect(outcome.trace.events.filter((e) => e.kind === 'Restart')).to.have.length(1);
  });

  it('in a child process, crashes it with a segmentation fault and nothing else: the host and a replacement process go on', async () => {
    const outcome = await runStep('crash-restart', { where: 'process' }, 'crash-restart-process');
    expect(outcome.facts.before).to.equal(42);
    expect(outcome.facts.fault).to.contain('SIGSEGV');
    expect(outcome.facts.bystanderAfter, 'a plugin in a worker thread of the host answers after the crash').to.equal(10);
    expect(['DisconnectedError', 'ApartmentFaultedError']).to.include(outcome.facts.afterCrash);
    expect(outcome.facts.replacementAnswer).to.equal(42);
    const faults = outcome.trace.events.filter((e) => e.kind === 'Fault');
    expect(faults).to.have.length(1);
    const lane = outcome.trace.lanes.find((l) => l.apartment === faults[0]!.apartment);
    expect(lane?.name, 'the process has a lane of its own, named as a process').to.match(/^plugin \(\d+\) · process$/);
  });
});

describe('docs/tour: wrong lock order and a deadlock cycle', () => {
  it('refuses the lock taken out of order and one call of the cycle, and marks both refusals', async () => {
    const outcome = await runStep('wrong-order', {});
    expect(outcome.facts.locks).to.equal('LockOrderError');
    expect([...(outcome.facts.outcomes as string[])].sort()).to.deep.equal(['DeadlockError', 'touched']);
    const refusals = outcome.trace.events.filter((e) => e.kind === 'Refuse').map((e) => e.name.split(' ')[0]);
    expect(refusals).to.include.members(['ERROR_LOCK_VIOLATION', 'ERROR_POSSIBLE_DEADLOCK']);
  });

  it('takes both locks when they are taken in ascending order', async () => {
    const outcome = await runStep('wrong-order', { locks: 'ascending' }, 'wrong-order-ascending');
    expect(outcome.facts.locks).to.equal('both taken');
    expect(outcome.trace.events.filter((e) => e.kind === 'LockAcquire')).to.have.length(2);
  });
});

describe('docs/tour: the index page', () => {
  it('links every step page written', () => {
    const index = readFileSync(writeIndex(TOUR_SPEC_OUT, TOUR_STEPS), 'utf8');
    for (const s of TOUR_STEPS) expect(index).to.include(`href="${s.name}.html"`);
  });
});

describe('docs/tour: the pages in a real browser', () => {
  it('draws lanes, slices, arrows and markers on every page, loads nothing from the network, and saves a screenshot of each', async function () {
    const pages = readdirSync(TOUR_SPEC_OUT).filter((f) => f.endsWith('.html') && f !== 'index.html');
    expect(pages.length, 'pages written by the steps above').to.be.at.least(TOUR_STEPS.length);
    const browser = await launchBrowser(join(TOUR_SPEC_OUT, 'browser-profile'));
    try {
      for (const file of [...pages, 'index.html']) {
        const page = await browser.newPage();
        const requested: string[] = [];
        page.on('request', (r) => {
          if (!r.url().startsWith('file:')) requested.push(r.url());
        });
        await page.goto(pathToFileURL(join(TOUR_SPEC_OUT, file)).href, { waitUntil: 'load' });
        expect(requested, `${file} loads nothing from the network`).to.deep.equal([]);
        if (file !== 'index.html') {
          const view = page.locator('svg.timeline[data-mode=time]');
          const lanes = await view.locator('.lane').count();
          expect(lanes, `${file}: lanes`).to.be.at.least(1);
          for (const name of await view.locator('.lane-label').allTextContents()) expect(name).to.match(/ \(\d+\) · (thread \d+|process)$/);
          expect(await view.locator('.slice').count(), `${file}: slices`).to.be.at.least(1);
          expect(await view.locator('.arrow').count(), `${file}: arrows`).to.be.at.least(1);
          // The switch shows step order instead.
          await page.locator('input[value=step]').check();
          expect(await page.locator('svg.timeline[data-mode=step]').isVisible()).to.equal(true);
          expect(await view.isVisible()).to.equal(false);
        }
        await page.screenshot({ path: join(TOUR_SPEC_OUT, file.replace(/\.html$/, '.png')), fullPage: true });
        await page.close();
      }
      const red = async (file: string): Promise<number> => {
        const page = await browser.newPage();
        await page.goto(pathToFileURL(join(TOUR_SPEC_OUT, file)).href);
        const n = await page.locator('svg.timeline[data-mode=time] .marker.error').count();
        await page.close();
        return n;
      };
      expect(await red('wrong-order.html'), 'refusals are red markers').to.be.at.least(2);
      expect(await red('crash-restart.html'), 'the fault is a red marker').to.be.at.least(1);
      expect(await red('script-engine.html'), 'the call the bound engine refused is a red marker').to.be.at.least(1);
    } finally {
      await browser.close();
    }
  });
});
