// Baseline server: raw postMessage request/reply, the floor for any MessagePort design.
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (msg: [number, number, number]) => {
  parentPort!.postMessage([msg[0], msg[1] + msg[2]]);
});
