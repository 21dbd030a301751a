// Runs every compiled spec under dist/spec with mocha and ends with the one line CI reads:
// `spec: N passed, M failed`. Optional arguments filter spec files by substring. With --cluster it
// runs the cluster specs (*.cluster.spec.ts) instead, which start real NATS servers and node
// processes (npm run test:cluster); without it, every other spec (npm test).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Mocha from 'mocha';

const specRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const cluster = process.argv.includes('--cluster');
const filters = process.argv.slice(2).filter((a) => a !== '--cluster');

/** The spec reporter, plus the closing summary line that CI and the guide rely on. */
class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const stats = runner.stats ?? { passes: 0, failures: 0 };
      process.stdout.write(`spec: ${stats.passes} passed, ${stats.failures} failed\n`);
    });
  }
}

if (cluster && spawnSync('nats-server', ['--version']).status !== 0) {
  process.stderr.write('[nats-server-missing] npm run test:cluster starts real NATS servers and needs nats-server on PATH; install it (Debian: apt-get install nats-server) and run it again\n');
  process.stdout.write('spec: 0 passed, 1 failed\n');
  process.exit(1);
}

const files = (readdirSync(specRoot, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.spec.js') && !f.startsWith('bench') && f.endsWith('.cluster.spec.js') === cluster)
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()
  .map((f) => join(specRoot, f));

// The per-spec timeout only catches a hang: it is no performance limit. Specs run real threads and
// processes, and a CI machine may be busy with other work, so it is generous.
const mocha = new Mocha({ reporter: SpecWithSummary, timeout: 120_000, slow: 1_000 });
for (const f of files) mocha.addFile(f);
await mocha.loadFilesAsync();
mocha.run((failures) => {
  // Exit explicitly: a spec that leaks a worker must fail loudly in its own assertions, not hang CI.
  process.exitCode = failures > 0 ? 1 : 0;
  setImmediate(() => process.exit());
});
