// A short lane diagram for the terminal: one row per apartment, one column per interesting event
// in global order, so the interleaving shows at a glance. The HTML page has the full picture.
import type { Trace } from 'apartment-runtime';

const SYMBOLS: Readonly<Record<string, string>> = {
  Start: '▶', End: '■', Refuse: '✗', Fault: '✗', Restart: '↻', LockAcquire: 'L', LockRelease: 'U', Export: '+', Release: '-',
};

/** Render at most `columns` events of `trace` as rows of symbols, with a legend. */
export function laneDiagram(trace: Trace, columns = 72): string {
  // The runtime's own control calls (service.method) and the messages between would drown the scenario.
  const shown = trace.events.filter((e) => (e.kind in SYMBOLS || e.kind === 'Mark') && e.kind !== 'Send' && e.kind !== 'Reply' && !(e.kind !== 'Mark' && e.name.includes('.')));
  const cut = shown.slice(0, columns);
  const lanes = trace.lanes.filter((l) => shown.some((e) => e.apartment === l.apartment));
  const width = Math.max(...lanes.map((l) => l.name.length), 4);
  const rows = lanes.map((lane) => {
    const cells = cut.map((e) => (e.apartment === lane.apartment ? (e.kind === 'End' && e.extra === 0 ? '✗' : symbolOf(e.kind, e.name)) : '·'));
    return `${lane.name.padEnd(width)} │${cells.join('')}${shown.length > cut.length ? '…' : ''}`;
  });
  const legend = '▶ start ■ end ✗ refused/threw/fault ↻ restart letters: marks (r read, w write, …) L/U lock/unlock + object - released';
  return [...rows, `${''.padEnd(width)}   ${legend}`].join('\n');
}

function symbolOf(kind: string, name: string): string {
  if (kind === 'Mark') return name[0] ?? '*';
  return SYMBOLS[kind] ?? '?';
}
