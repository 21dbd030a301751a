// The structural and order invariants every trace must keep, checked the same way for every
// scenario: never durations, only structure and order.
import { expect } from 'chai';
import { checkChromeTrace, toChromeTrace, type Trace } from '../../../lib/index.js';

/** Assert `trace` keeps every invariant, and that its Chrome JSON passes the format check. */
export function expectTraceInvariants(trace: Trace): void {
  expect(trace.events.length, 'events recorded').to.be.greaterThan(0);
  expect(trace.dropped, 'events dropped').to.equal(0);
  // A thread's lane names its thread; a process apartment's lane (no ring: host records only) says so.
  for (const lane of trace.lanes) expect(lane.name, 'lane name').to.match(/^\S.* \(\d+\) · (thread \d+|process)$/);
  const laneIds = new Set(trace.lanes.map((l) => l.apartment));
  for (const e of trace.events) expect(laneIds.has(e.apartment), `event ${e.kind} on a named lane`).to.equal(true);
  // The global sequence orders everything.
  for (let i = 1; i < trace.events.length; i++) expect(trace.events[i]!.seq, 'sequence').to.be.greaterThan(trace.events[i - 1]!.seq);
  // A lane's own clock never goes backwards (faults and restarts are written by the host's clock).
  const last = new Map<number, number>();
  for (const e of trace.events) {
    if (e.kind === 'Fault' || e.kind === 'Restart') continue;
    expect(e.time, `time on lane ${e.apartment}`).to.be.at.least(last.get(e.apartment) ?? -Infinity);
    last.set(e.apartment, e.time);
  }
  // Each start has its end, each call sent its answer, unless the thread died meanwhile.
  const faulted = new Set(trace.events.filter((e) => e.kind === 'Fault').map((e) => e.apartment));
  const open = new Map<string, string>();
  for (const e of trace.events) {
    const callee = `${e.peer}>${e.apartment}#${e.callId}`;
    const caller = `${e.apartment}>${e.peer}#${e.callId}`;
    if (e.kind === 'Start') open.set(`start ${callee}`, e.name);
    if (e.kind === 'End') expect(open.delete(`start ${callee}`), `End ${e.name} has its Start`).to.equal(true);
    if (e.kind === 'Send') open.set(`send ${caller}`, e.name);
    // Answers to reference requests (AddRef) have no Send of their own: deleting nothing is fine.
    if (e.kind === 'Reply') open.delete(`send ${caller}`);
  }
  for (const [key, name] of open) {
    const lane = Number(key.startsWith('start') ? key.split('>')[1]!.split('#')[0] : key.split('>')[1]!.split('#')[0]);
    expect(faulted.has(lane), `${key} (${name}) never finished, and its lane did not fault`).to.equal(true);
  }
  expect(checkChromeTrace(toChromeTrace(trace))).to.deep.equal([]);
}
