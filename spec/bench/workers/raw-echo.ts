// Baseline server: raw postMessage request/reply, the floor for any MessagePort design.
// [id, a, b] → [id, a + b]; [id, 'echo', value] → [id, value] (buffers come back transferred).
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (msg: [number, unknown, unknown]) => {
  if (msg[1] === 'echo') {
    const v = msg[2];
    parentPort!.postMessage([msg[0], v], v instanceof ArrayBuffer ? [v] : []);
  } else {
    parentPort!.postMessage([msg[0], (msg[1] as number) + (msg[2] as number)]);
  }
});
