// Baseline worker for the co-scheduling case: the cheapest round trip two threads can make. It spins
// on word 0 of the shared memory it is given, copies each new value to word 1, and stops on a
// negative value; nothing parks, nothing goes through the event loop.
import { parentPort, workerData } from 'node:worker_threads';

const words = new Int32Array(workerData as SharedArrayBuffer);
parentPort!.postMessage('ready');
let last = 0;
for (;;) {
  let v: number;
  while ((v = Atomics.load(words, 0)) === last);
  if (v < 0) break;
  last = v;
  Atomics.store(words, 1, v);
}
