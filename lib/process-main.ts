// The composition root of a process apartment, the script every process host forks
// (apartments/hosts/process-host.ts): open the link to the host, say hello, take the boot record
// the host sends back, answer heartbeats (from a thread of their own, heartbeat-pipe.ts), then run
// the apartment loop (apartment-main.ts). The process ends when its host's channel closes, so it
// never outlives the host.
import type { ApartmentBoot } from '../apartments/worker-boot.js';
import { answerHeartbeats } from '../apartments/hosts/heartbeat-pipe.js';
import { childIpcEnd } from '../marshal/transports/ipc-link.js';
import { IpcTag, isIpc } from '../marshal/transports/ipc-transport.js';
import { runApartment } from './apartment-main.js';
import { SCRIPT_GATE_BYTES } from '../apartments/script-gate.js';

const send = process.send?.bind(process);
if (!send) {
  process.stderr.write('[process-apartment] this script is the composition root of a process apartment; the runtime forks it with an IPC channel — do not run it directly\n');
  process.exit(70);
}
/** Writes that fail mean the host is gone; the disconnect that follows ends this process. */
const ignoreFailure = (): undefined => undefined;

// Made before the hello: batches the host sends right after the boot record wait in it.
childIpcEnd();
const bootRecord = new Promise<ApartmentBoot>((resolve) => {
  const onBoot = (message: unknown): void => {
    if (!isIpc(message, IpcTag.Boot)) return;
    process.off('message', onBoot);
    resolve(message[1] as ApartmentBoot);
  };
  process.on('message', onBoot);
});
answerHeartbeats();
// The host closed the channel or died: nothing can reach this apartment any more.
process.on('disconnect', () => process.exit(0));
send([IpcTag.Hello, null], undefined, undefined, ignoreFailure);

const boot = await bootRecord;
// Shared memory stays within a process: the script gate and spin flag are this process's own.
await runApartment({ ...boot, scriptGate: new SharedArrayBuffer(SCRIPT_GATE_BYTES), awakeFlag: new SharedArrayBuffer(4) });
