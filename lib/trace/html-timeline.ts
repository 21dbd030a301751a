// A trace as one self-contained HTML page: no script, style or font from anywhere else. One lane
// per apartment, run slices and arrows coloured by call chain, red markers for refusals and
// faults, and a switch between real time and step order (the global sequence). Both views are
// drawn here as SVG; the page's few lines of script only switch which one shows.
import type { Trace } from './trace-recorder.js';
import { buildTimeline, chainColour, type TimelineModel, type TimePoint } from './timeline-model.js';

export interface HtmlTimelineOptions {
  readonly title?: string;
  /** What the trace shows, in a sentence or two (plain text). */
  readonly lesson?: string;
}

const LABEL_W = 240;
const PLOT_W = 960;
const LANE_H = 56;
const TOP = 24;

/** Render `trace` as an HTML document (a string). */
export function toHtmlTimeline(trace: Trace, options: HtmlTimelineOptions = {}): string {
  const model = buildTimeline(trace);
  const title = options.title ?? 'apartment-runtime trace';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${esc(title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:16px;color:#222;background:#fff}
h1{font-size:18px;margin:0 0 6px}
p.lesson{max-width:1150px;margin:0 0 10px}
.switch{margin:8px 0}
.lane-label{font:12px ui-monospace,monospace;fill:#333}
.lane-bg{fill:#f6f7f9}
.slice{stroke:#0003;stroke-width:.5}
.slice-label{font:10px system-ui,sans-serif;fill:#fff;pointer-events:none}
.arrow{fill:none;stroke-width:1.3;opacity:.85}
.marker{stroke:#fff;stroke-width:.5}
.marker.error{fill:#d11;stroke:#600}
.mark-label{font:9px ui-monospace,monospace;fill:#333}
.axis{font:10px system-ui,sans-serif;fill:#666}
.stats{color:#555;font-size:12px}
</style></head><body>
<h1>${esc(title)}</h1>
${options.lesson ? `<p class="lesson">${esc(options.lesson)}</p>` : ''}
<div class="switch">x axis: <label><input type="radio" name="mode" value="time" checked> real time</label>
<label><input type="radio" name="mode" value="step"> step order</label></div>
${view(model, 'time')}
${view(model, 'step')}
<p class="stats">${model.lanes.length} lanes · ${model.slices.length} run slices · ${model.flows.length} arrows · ${model.markers.filter((m) => m.error).length} refusals/faults · ${trace.dropped} events dropped${trace.damaged.length > 0 ? ` · events of ${trace.damaged.length} lane(s) cut short by a damaged buffer` : ''}</p>
<script>
for (const input of document.querySelectorAll('input[name=mode]')) input.addEventListener('change', () => {
  for (const svg of document.querySelectorAll('svg.timeline')) svg.style.display = svg.dataset.mode === input.value ? '' : 'none';
});
</script>
</body></html>
`;
}

function view(model: TimelineModel, mode: 'time' | 'step'): string {
  const span = Math.max(1e-6, ...model.lanes.map(() => 0), ...model.slices.map((s) => s.to.time - model.origin), ...model.markers.map((m) => m.at.time - model.origin), ...model.flows.map((f) => f.to.time - model.origin));
  const steps = Math.max(1, model.steps);
  const x = (p: TimePoint): number => LABEL_W + (mode === 'time' ? ((p.time - model.origin) / span) : (p.step + 0.5) / steps) * PLOT_W;
  const laneIndex = new Map(model.lanes.map((l, i) => [l.apartment, i]));
  const y = (lane: number): number => TOP + (laneIndex.get(lane) ?? 0) * LANE_H;
  const height = TOP + model.lanes.length * LANE_H + 10;
  const parts: string[] = [];
  parts.push(`<defs><marker id="head-${mode}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>`);
  parts.push(`<text class="axis" x="${LABEL_W}" y="14">${mode === 'time' ? `0 ms` : 'step 0'}</text><text class="axis" x="${LABEL_W + PLOT_W}" y="14" text-anchor="end">${mode === 'time' ? `${span.toFixed(2)} ms` : `step ${steps}`}</text>`);
  for (const lane of model.lanes) {
    parts.push(`<g class="lane" data-apartment="${lane.apartment}"><rect class="lane-bg" x="${LABEL_W}" y="${y(lane.apartment)}" width="${PLOT_W}" height="${LANE_H - 6}"/><text class="lane-label" x="4" y="${y(lane.apartment) + LANE_H / 2}">${esc(lane.name)}</text></g>`);
  }
  for (const s of model.slices) {
    const x1 = x(s.from);
    const w = Math.max(2, x(s.to) - x1);
    const label = w > 40 ? `<text class="slice-label" x="${x1 + 3}" y="${y(s.lane) + 24}">${esc(clip(s.name, Math.floor(w / 6)))}</text>` : '';
    parts.push(`<rect class="slice" data-lane="${s.lane}" data-causality="${s.causality}" x="${x1.toFixed(1)}" y="${y(s.lane) + 8}" width="${w.toFixed(1)}" height="${LANE_H - 34}" fill="${chainColour(s.causality)}"><title>${esc(s.name)} · chain ${s.causality} · steps ${s.from.step}–${s.to.step}</title></rect>${label}`);
  }
  for (const f of model.flows) {
    const x1 = x(f.from);
    const x2 = Math.max(x(f.to), x1 + 1);
    const y1 = y(f.fromLane) + (LANE_H - 6) / 2;
    const y2 = y(f.toLane) + (LANE_H - 6) / 2;
    const mid = (y1 + y2) / 2;
    parts.push(`<path class="arrow ${f.direction}" data-causality="${f.causality}" d="M${x1.toFixed(1)},${y1} C${x1.toFixed(1)},${mid} ${x2.toFixed(1)},${mid} ${x2.toFixed(1)},${y2}" stroke="${chainColour(f.causality)}"${f.direction === 'return' ? ' stroke-dasharray="4 2"' : ''} marker-end="url(#head-${mode})"><title>${f.direction} · chain ${f.causality}</title></path>`);
  }
  for (const m of model.markers) {
    const mx = x(m.at);
    const my = y(m.lane);
    const tip = `<title>${esc(m.kind)} ${esc(m.name)}${m.value ? ` = ${m.value}` : ''} · step ${m.at.step}</title>`;
    if (m.error) parts.push(`<path class="marker error" data-kind="${m.kind}" d="M${mx.toFixed(1)},${my + 2} l6,8 l-6,8 l-6,-8 z">${tip}</path>`);
    else {
      parts.push(`<rect class="marker ${m.kind.toLowerCase()}" data-kind="${m.kind}" x="${(mx - 1).toFixed(1)}" y="${my + LANE_H - 26}" width="3" height="8" fill="${chainColour(m.causality)}">${tip}</rect>`);
      // What a program marked (a read, a write and its value) is the point of a scenario: say it.
      if (m.kind === 'Mark') parts.push(`<text class="mark-label" x="${mx.toFixed(1)}" y="${my + LANE_H - 9}" text-anchor="middle">${esc(`${m.name.split(' ')[0]!.slice(0, 6)} ${m.value}`)}</text>`);
    }
  }
  return `<svg class="timeline" data-mode="${mode}" xmlns="http://www.w3.org/2000/svg" width="${LABEL_W + PLOT_W + 10}" height="${height}"${mode === 'step' ? ' style="display:none"' : ''}>${parts.join('')}</svg>`;
}

function clip(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, Math.max(1, chars - 1))}…`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
