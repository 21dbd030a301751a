// Asking for an interrupt of a VmScriptEngine from any thread, with only its interrupt handle.
// The engine's own thread cannot be asked (while a script runs it serves nothing), so the handle's
// shared control block says whether a script is running; if so the requester claims that very run
// and has the main thread's WorkerInterruptService terminate it. If the engine is only awaiting,
// its pending calls are cancelled through a broadcast channel its thread listens on.
import { randomUUID } from 'node:crypto';
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';
import { ScriptRunControl, type ClaimedRun, type ScriptInterruptHandle } from './run-control.js';

/** The broadcast channel the main thread's interrupt service listens on. */
export const INTERRUPT_SERVICE_CHANNEL = 'apartment-runtime:script-interrupt';

/** How long a worker waits for the main thread to accept an interrupt before giving its claim back. */
const SERVICE_ACK_MS = 500;

/** What an interrupt request did. */
export type InterruptOutcome =
  | 'terminating' // a running script was claimed and its thread is being stopped
  | 'cancelled' // no script was running; the engine's calls waiting on awaits were cancelled
  | 'idle' // nothing was running or waiting
  | 'unsupported'; // a script runs where it cannot be stopped (main thread, the caller's own thread, no service)

/** A request travelling to the interrupt service. */
export interface InterruptServiceRequest {
  readonly control: SharedArrayBuffer;
  readonly claim: ClaimedRun;
  readonly reply: string;
}

/** The channel a VmScriptEngine's thread listens on for cancellation of awaiting calls. */
export function cancelChannelName(engineId: string): string {
  return `apartment-runtime:script-engine:${engineId}`;
}

/** The main thread's delivery function, set while a WorkerInterruptService runs here. */
let localDelivery: ((control: ScriptRunControl, claim: ClaimedRun) => Promise<boolean>) | undefined;

/** For WorkerInterruptService: lets requests made on the main thread skip the channel. */
export function setLocalInterruptDelivery(deliver: typeof localDelivery): void {
  localDelivery = deliver;
}

/** Interrupts the engine behind `handle` from any thread (see InterruptOutcome). */
export async function requestScriptInterrupt(handle: ScriptInterruptHandle): Promise<InterruptOutcome> {
  const control = new ScriptRunControl(handle.control);
  const claim = control.claim();
  if (claim === undefined) {
    if (control.pending() === 0) return 'idle';
    const channel = new BroadcastChannel(cancelChannelName(handle.engineId));
    channel.postMessage('cancel');
    channel.close();
    return 'cancelled';
  }
  // The main thread cannot be stopped through the inspector, and a run on the requester's own thread
  // is the requester itself (a host callback of the script): neither can be terminated from here.
  if (claim.threadId === 0 || claim.threadId === threadId) {
    control.release(claim);
    return 'unsupported';
  }
  const delivered = isMainThread && localDelivery ? await localDelivery(control, claim) : await viaService(handle.control, claim);
  if (!delivered) {
    control.release(claim);
    return 'unsupported';
  }
  return 'terminating';
}

function viaService(control: SharedArrayBuffer, claim: ClaimedRun): Promise<boolean> {
  const reply = `${INTERRUPT_SERVICE_CHANNEL}:reply:${randomUUID()}`;
  const answers = new BroadcastChannel(reply);
  const service = new BroadcastChannel(INTERRUPT_SERVICE_CHANNEL);
  return new Promise<boolean>((resolve) => {
    const done = (delivered: boolean) => {
      clearTimeout(timer);
      answers.close();
      resolve(delivered);
    };
    const timer = setTimeout(() => done(false), SERVICE_ACK_MS);
    answers.onmessage = (event) => done((event as MessageEvent).data === true);
    const request: InterruptServiceRequest = { control, claim, reply };
    service.postMessage(request);
    service.close();
  });
}
