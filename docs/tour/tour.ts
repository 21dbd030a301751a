// `npm run tour`: run the tour's steps, print each one's lane diagram and lesson, and write its
// trace and timeline. Usage:
//   npm run tour -- [--list] [--out <dir>] [step] [--<option>=<value> ...]
// Without a step, every step runs with its defaults (options given apply to steps that take them).
import { resolve } from 'node:path';
import { laneDiagram } from './lane-diagram.js';
import { resolveStepOptions, type TourStep } from './tour-step.js';
import { TOUR_STEPS } from './tour-steps.js';
import { writeIndex, writeStep } from './tour-output.js';

interface TourArgs {
  list: boolean;
  out: string;
  steps: string[];
  options: Record<string, string>;
}

function parseArgs(argv: readonly string[]): TourArgs {
  const args: TourArgs = { list: false, out: 'tour-out', steps: [], options: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--list') args.list = true;
    else if (a === '--out') args.out = argv[++i] ?? args.out;
    else if (a.startsWith('--out=')) args.out = a.slice(6);
    else if (a.startsWith('--')) {
      const [key, value] = a.slice(2).split('=', 2) as [string, string | undefined];
      args.options[key] = value ?? 'yes';
    } else args.steps.push(a);
  }
  return args;
}

function describe(step: TourStep): string {
  const opts = Object.entries(step.options).map(([k, o]) => `      --${k}=${o.choices ? o.choices.join('|') : '<n>'} (default ${o.default}): ${o.describe}`);
  return [`  ${step.name.padEnd(20)} ${step.title}`, ...opts].join('\n');
}

const args = parseArgs(process.argv.slice(2));
if (args.list) {
  console.log(`Next: the tour shows every threading model run, lane by lane. npm run tour (all steps, pages in tour-out/), or npm run tour -- <step> [options]:\n${TOUR_STEPS.map(describe).join('\n')}`);
  process.exit(0);
}
const unknown = args.steps.filter((n) => !TOUR_STEPS.some((s) => s.name === n));
if (unknown.length > 0) {
  console.error(`unknown step ${unknown.join(', ')}; npm run tour -- --list shows the steps`);
  process.exit(2);
}
const chosen = args.steps.length > 0 ? TOUR_STEPS.filter((s) => args.steps.includes(s.name)) : TOUR_STEPS;
const out = resolve(args.out);
for (const step of chosen) {
  const given = args.steps.length > 0 ? args.options : Object.fromEntries(Object.entries(args.options).filter(([k]) => k in step.options));
  let options: Record<string, string>;
  try {
    options = resolveStepOptions(step, given);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const outcome = await step.run(options);
  const files = writeStep(out, step, outcome, options);
  console.log(`\n== ${step.title}\n${laneDiagram(outcome.trace)}\n\n${outcome.lesson}\n   ${files.html}\n   ${files.json}`);
}
console.log(`\nAll pages: ${writeIndex(out, TOUR_STEPS)}`);
