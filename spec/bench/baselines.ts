// The baselines every case is compared with, each an add(a, b) server in its own worker:
// raw postMessage request/reply and comlink.
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';

/** A started baseline: a sum call and a way to stop it. */
export interface Baseline {
  sum(a: number, b: number): Promise<number>;
  close(): Promise<void>;
}

/** Raw postMessage: one message per request, replies matched by integer id. */
export async function startRawPostMessage(): Promise<Baseline> {
  const worker = new Worker(new URL('./workers/raw-echo.js', import.meta.url));
  const pending = new Map<number, (v: number) => void>();
  let nextId = 1;
  worker.on('message', (msg: [number, number]) => {
    const r = pending.get(msg[0])!;
    pending.delete(msg[0]);
    r(msg[1]);
  });
  await new Promise((r) => worker.once('online', r));
  return {
    sum: (a, b) => new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      worker.postMessage([id, a, b]);
    }),
    close: async () => {
      await worker.terminate();
    },
  };
}

/** comlink over the worker's port. */
export async function startComlink(): Promise<Baseline> {
  const worker = new Worker(new URL('./workers/comlink-echo.js', import.meta.url));
  await new Promise((r) => worker.once('online', r));
  const remote = Comlink.wrap<{ sum(a: number, b: number): number }>(nodeEndpoint(worker));
  return {
    sum: (a, b) => remote.sum(a, b),
    close: async () => {
      remote[Comlink.releaseProxy]();
      await worker.terminate();
    },
  };
}
