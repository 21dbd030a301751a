// Baseline worker for start-up and idle memory: a bare Worker that says it is ready, then waits
// for messages as an idle apartment does, and answers each with the same value.
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (msg: unknown) => parentPort!.postMessage(msg));
parentPort!.postMessage('ready');
