// Baseline server: raw postMessage request/reply, the floor for any MessagePort design.
// [id, a, b] → [id, a + b]; [id, 'echo', value] → [id, value] copied;
// [id, 'echo-moved', buffer] → [id, buffer] transferred back.
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (msg: [number, unknown, unknown]) => {
  if (msg[1] === 'echo') {
    parentPort!.postMessage([msg[0], msg[2]]);
  } else if (msg[1] === 'echo-moved') {
    const buf = msg[2] as ArrayBuffer;
    parentPort!.postMessage([msg[0], buf], [buf]);
  } else {
    parentPort!.postMessage([msg[0], (msg[1] as number) + (msg[2] as number)]);
  }
});
