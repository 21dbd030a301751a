// What a step leaves behind: <step>.trace.json (open it in Perfetto), <step>.html (the timeline,
// self-contained) and index.html linking every step page in the folder.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkChromeTrace, toChromeTrace, toHtmlTimeline } from 'apartment-runtime';
import type { StepOutcome, TourStep } from './tour-step.js';

/** Write one step's files into `dir`; throws if the JSON is not a valid trace-event document. */
export function writeStep(dir: string, step: TourStep, outcome: StepOutcome, options: Readonly<Record<string, string>>): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const doc = toChromeTrace(outcome.trace);
  const problems = checkChromeTrace(doc);
  if (problems.length > 0) throw new Error(`the trace of '${step.name}' is not valid trace-event JSON: ${problems.slice(0, 5).join('; ')}`);
  const json = join(dir, `${step.name}.trace.json`);
  const html = join(dir, `${step.name}.html`);
  writeFileSync(json, JSON.stringify(doc));
  const shown = Object.entries(options).map(([k, v]) => `--${k}=${v}`).join(' ');
  writeFileSync(html, toHtmlTimeline(outcome.trace, { title: `${step.title}${shown ? ` (${shown})` : ''}`, lesson: outcome.lesson }));
  writeFileSync(join(dir, `${step.name}.lesson.txt`), `${outcome.lesson}\n`);
  return { json, html };
}

/** (Re)write index.html for the steps whose pages are in `dir`. */
export function writeIndex(dir: string, steps: readonly TourStep[]): string {
  const items = steps.filter((s) => existsSync(join(dir, `${s.name}.html`))).map((s) => {
    const lessonFile = join(dir, `${s.name}.lesson.txt`);
    const lesson = existsSync(lessonFile) ? readFileSync(lessonFile, 'utf8').trim() : '';
    return `<li><a href="${s.name}.html">${esc(s.title)}</a> · <a href="${s.name}.trace.json">trace JSON</a><br><small>${esc(lesson)}</small></li>`;
  });
  const file = join(dir, 'index.html');
  writeFileSync(file, `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>apartment-runtime tour</title>
<style>body{font:15px system-ui,sans-serif;margin:24px;max-width:900px}li{margin:10px 0}small{color:#555}</style></head><body>
<h1>A tour of the threading models</h1>
<p>Each page is one step's timeline: a lane per apartment, run slices and arrows coloured by call chain, red marks where a call was refused or a thread died. The .trace.json files open in Perfetto (ui.perfetto.dev) or chrome://tracing.</p>
<ol class="steps">${items.join('\n')}</ol>
</body></html>
`);
  return file;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
