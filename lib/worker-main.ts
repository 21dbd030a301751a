// The composition root of a worker apartment, the script every apartment's Worker runs: take the
// boot record out of reach of the code the apartment will load, then run the apartment loop
// (apartment-main.ts).
import { isMainThread, workerData } from 'node:worker_threads';
import { inheritHostLoaders } from './worker-loader.js';
import type { WorkerBoot } from '../apartments/worker-boot.js';
import { WrongThreadError } from '../marshal/errors.js';
import { runApartment } from './apartment-main.js';

// Imported anywhere else (the main thread, a Worker the user started), it has no boot record to run.
if (isMainThread || workerData === null || typeof workerData !== 'object' || !('transport' in workerData)) {
  throw new WrongThreadError("[worker-entry] apartment-runtime/worker is the script the runtime starts each apartment's Worker with (name it as an entry point when you bundle a host); import 'apartment-runtime' instead");
}

// First, before any class module loads: load modules the way the host does (TypeScript loaders).
await inheritHostLoaders();
// The boot record holds this apartment's link (ring memory, ports) and shared gates: keep a private
// copy and empty the module's workerData, so code loaded into the apartment cannot reach them.
const boot: WorkerBoot = { ...(workerData as WorkerBoot) };
for (const key of Object.keys(workerData as object)) delete (workerData as Record<string, unknown>)[key];
await runApartment(boot);
