// The VM pool and a shared child library. Scripts run in VMs (apartments) checked out of a warm
// pool, one owner at a time, reset at check-in for the next. The child library they use is loaded
// once on the main thread by its first user and unloaded after its last user let go of it: a VM
// gives its lease back when it is checked in. Users come in waves of as many as there are VMs; a
// host that keeps a lease of its own (--keep=yes) keeps the library loaded between waves.
import { traceMark } from 'apartment-runtime';
import { ChildLibrary, type Script, type ScriptRun } from '../classes/vm.js';
import { count, type TourStep } from '../tour-step.js';
import { finishTour, scenarioStart, startTour } from '../tour-runtime.js';

export const vmPool: TourStep = {
  name: 'vm-pool',
  title: 'The VM pool, and a shared child library unloaded after its last user',
  options: {
    vms: { describe: 'VMs (apartments) in the pool', default: '2' },
    users: { describe: 'scripts to run, each in a VM checked out for it', default: '3' },
    keep: { describe: "'yes': the host holds a lease on the library throughout; 'no': only the VMs do", default: 'no', choices: ['yes', 'no'] },
  },
  async run(options) {
    const vms = count(options, 'vms');
    const users = count(options, 'users');
    const keep = options.keep === 'yes';
    const rt = await startTour();
    rt.defineSharedResource('child-library', {
      create: () => {
        traceMark('library loaded');
        return new ChildLibrary();
      },
      dispose: () => traceMark('library unloaded'),
    });
    const pool = rt.createPool({ size: vms, name: 'vm' });
    await pool.warm();
    const from = scenarioStart(rt);
    const pinned = keep ? await rt.acquireShared<ChildLibrary>('child-library') : undefined;
    const runs: ScriptRun[] = [];
    const leasesAfterWave: number[] = [];
    for (let first = 0; first < users; first += vms) {
      const wave = Array.from({ length: Math.min(vms, users - first) }, (_, i) => first + i + 1);
      const checkedOut = await Promise.all(wave.map(() => pool.checkout()));
      runs.push(...(await Promise.all(checkedOut.map(async (vm, i) => (await vm.createObject<Script>('Script')).run(wave[i]!)))));
      // Check-in resets each VM: its Script is released and its lease on the library given back.
      await Promise.all(checkedOut.map((vm) => vm.checkin()));
      leasesAfterWave.push(rt.sharedLeases('child-library'));
    }
    await pinned?.release();
    const leasesAtEnd = rt.sharedLeases('child-library');
    const trace = await finishTour(rt, from);
    const marks = trace.events.filter((e) => e.kind === 'Mark').map((e) => e.name);
    const loads = marks.filter((m) => m === 'library loaded').length;
    const vmsUsed = new Set(runs.map((r) => r.vm)).size;
    const waves = leasesAfterWave.length;
    return {
      trace,
      facts: { vms, users, keep, runs, vmsUsed, loads, unloads: marks.filter((m) => m === 'library unloaded').length, leasesAfterWave, leasesAtEnd },
      lesson: `${users} script${users === 1 ? '' : 's'} ran on ${vmsUsed} pooled VM${vmsUsed === 1 ? '' : 's'} in ${waves} wave${waves === 1 ? '' : 's'}, each VM reset at check-in for its next owner. The child library was loaded ${loads === 1 ? 'once' : `${loads} times`}: ${keep
        ? 'the host held a lease of its own, so it stayed loaded between waves and was unloaded only when the host let go, after its last user.'
        : `by the first user of each wave, and unloaded after the wave's last VM was checked in and gave its lease back${waves > 1 ? ' (run with --keep=yes to keep it loaded between waves)' : ''}.`}`,
    };
  },
};
