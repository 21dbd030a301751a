// Baseline for the callback round trip: a request [id, x] (id > 0) is answered only after this worker
// has asked the host [qid, x] (qid < 0) and received the host's answer [qid, y]; then [id, y].
import { parentPort } from 'node:worker_threads';

const waiting = new Map<number, number>();
let questions = 0;

parentPort!.on('message', (msg: [number, number]) => {
  if (msg[0] > 0) {
    const qid = -++questions;
    waiting.set(qid, msg[0]);
    parentPort!.postMessage([qid, msg[1]]);
  } else {
    const id = waiting.get(msg[0])!;
    waiting.delete(msg[0]);
    parentPort!.postMessage([id, msg[1]]);
  }
});
