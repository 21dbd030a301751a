// Baseline producer: on [count, bytes] it posts `count` items, one postMessage each (a number, or a
// new Uint8Array of `bytes` copied), then [-1]. No flow control: the floor for items crossing.
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', ([count, bytes]: [number, number]) => {
  for (let i = 0; i < count; i++) parentPort!.postMessage(bytes === 0 ? i : new Uint8Array(bytes));
  parentPort!.postMessage(-1);
});
