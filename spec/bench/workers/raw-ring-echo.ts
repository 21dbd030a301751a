// Baseline server for the shared-memory transport alone: the same requests as raw-echo.ts, each a
// one-message batch over a SharedRingTransport with no runtime above it (what the runtime's own
// per-call work is measured against). [[id, a, b]] → [[id, a + b]]; [[id, 'echo', v]] → [[id, v]];
// [[id, 'echo-moved', buffer]] → [[id, buffer]] with the buffer transferred back.
import { workerData } from 'node:worker_threads';
import type { Batch } from '../../../marshal/protocol.js';
import { SharedRingTransport, type SharedRingHandle } from '../../../marshal/transports/shared-ring-transport.js';
import { shareAwakeFlag } from '../../../marshal/transports/thread-spinner.js';

const { handle, awakeFlag } = workerData as { handle: SharedRingHandle; awakeFlag: SharedArrayBuffer };
// As a worker apartment does: the host gives the thread's place in the spin gate back if it dies awake.
shareAwakeFlag(awakeFlag);
const transport = SharedRingTransport.attach(handle);
transport.listen((batch) => {
  for (const msg of batch as unknown as [number, unknown, unknown][]) {
    if (msg[1] === 'echo') transport.send([[msg[0], msg[2]]] as unknown as Batch);
    else if (msg[1] === 'echo-moved') transport.send([[msg[0], msg[2]]] as unknown as Batch, [msg[2] as ArrayBuffer]);
    else transport.send([[msg[0], (msg[1] as number) + (msg[2] as number)]] as unknown as Batch);
  }
}, () => process.exit(0));
