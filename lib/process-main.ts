// The composition root of a process server, the script every process server forks
// (apartments/hosts/process-server.ts): say hello, take the boot records the host sends back,
// answer heartbeats (from a thread of their own, heartbeat-pipe.ts), run the first apartment on this
// thread (apartment-main.ts) and every later one on a thread of its own (process-threads.ts). The
// process ends when its host's channel closes, so it never outlives the host.
import type { ResourceLimits } from 'node:worker_threads';
import { answerHeartbeats } from '../apartments/hosts/heartbeat-pipe.js';
import type { ApartmentBoot } from '../apartments/worker-boot.js';
import { SCRIPT_GATE_BYTES } from '../apartments/script-gate.js';
import { childIpcEnd } from '../marshal/transports/ipc-link.js';
import { IpcTag, isIpc } from '../marshal/transports/ipc-transport.js';
import { channelToHost } from '../marshal/transports/pipe-channel.js';
import { runApartment } from './apartment-main.js';
import { ProcessThreads } from './process-threads.js';

const host = channelToHost();
if (!host) {
  process.stderr.write('[process-apartment] this script is the composition root of a process server; the runtime starts it with a channel to the host — do not run it directly\n');
  process.exit(70);
}
/** Writes that fail mean the host is gone; the disconnect that follows ends this process. */
const ignoreFailure = (): undefined => undefined;
const tell = (tag: string, link: number, payload: unknown): void => void host.send([tag, link, payload], undefined, undefined, ignoreFailure);

const threads = new ProcessThreads((link, code, description) => tell(IpcTag.Exited, link, { code, description }));
/** The link of the apartment on this thread, once its boot record came. */
let primary: number | undefined;
let bootPrimary!: (boot: ApartmentBoot) => void;
const primaryBoot = new Promise<ApartmentBoot>((resolve) => {
  bootPrimary = resolve;
});

host.on('message', (message) => {
  if (isIpc(message, IpcTag.Boot)) {
    const [, link, payload] = message;
    const { boot, resourceLimits } = payload as { boot: ApartmentBoot; resourceLimits: ResourceLimits | undefined };
    if (primary === undefined) {
      primary = link;
      // Made now: batches the host sends right behind the boot record wait in it.
      childIpcEnd(link);
      bootPrimary(boot);
    } else {
      threads.start(link, boot, resourceLimits);
    }
  } else if (isIpc(message, IpcTag.Terminate)) {
    const link = message[1];
    if (link !== primary) return threads.terminate(link);
    // This thread's apartment ends while the process serves others: its link closes, and nothing
    // can reach its objects any more.
    childIpcEnd(link).close();
    tell(IpcTag.Exited, link, { code: 0, description: `the apartment on the main thread of process ${process.pid} was ended; the process serves its other apartments` });
  }
});
answerHeartbeats();
// The host closed the channel or died: nothing can reach these apartments any more.
host.on('disconnect', () => process.exit(0));
tell(IpcTag.Hello, 0, null);

const boot = await primaryBoot;
// Shared memory stays within a process: the script gate and spin flag are this process's own.
// Its link to the host closing ends the process unless apartments on other threads still serve.
await runApartment({ ...boot, scriptGate: new SharedArrayBuffer(SCRIPT_GATE_BYTES), awakeFlag: new SharedArrayBuffer(4) }, () => {
  if (!threads.running) process.exit(0);
});
