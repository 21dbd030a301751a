// The 'ipc' link kind: the link between the main apartment and an apartment in a child process,
// over the child's channel to its host (ipc-transport.ts over pipe-channel.ts), one link number per apartment. The host's end is
// made before the child runs; the process host claims it by the far end's number and opens it on
// the child once the child listens. The child attaches its end to its own IPC channel (or, for an
// apartment on another thread of the child, relays it there: ipc-relay-link.ts). Processes share
// no memory and can move nothing, and two children have no channel to each other, so the kind is
// not direct.
import type { LinkKindDefinition } from '../transport.js';
import { IpcTransport, keepEarlyMessages } from './ipc-transport.js';
import { channelToHost } from './pipe-channel.js';
import { UnclaimedEnds } from './unclaimed-ends.js';

/** The far end of an 'ipc' link as the child receives it in its boot record. */
export interface IpcEnd {
  readonly ipc: number;
}

/** Host ends made and not yet claimed by a process host. */
const unclaimed = new UnclaimedEnds();

/** Links over a child process's IPC channel: v8 serialization, no shared memory, not direct. */
export const ipcLink: LinkKindDefinition = {
  name: 'ipc',
  direct: false,
  carries: 'bytes',
  sharedMemory: false,
  create() {
    const { number, near } = unclaimed.make();
    const far: IpcEnd = { ipc: number };
    return { near, far, transfer: [] };
  },
  checkEnd(value) {
    if (typeof (value as IpcEnd | null)?.ipc !== 'number') return 'an { ipc: number } end was expected';
    if (!channelToHost()) return 'this thread is not the main thread of a process apartment started by a host; an ipc link can join only a process apartment to its host';
    return undefined;
  },
  attach: (end) => childIpcEnd((end as IpcEnd).ipc),
};

/** This child's ends of its links to the host, by link number. */
const childEnds = new Map<number, IpcTransport>();

/**
 * The child's end of link `link` to the host, on its own IPC channel. The child's composition root
 * makes it as the link's boot record arrives, so batches that come right behind it wait in it; a
 * relayed link's end gets what came for it before it was made.
 */
export function childIpcEnd(link: number): IpcTransport {
  let end = childEnds.get(link);
  if (!end) {
    const host = channelToHost();
    if (!host) throw new Error(`[ipc] this thread has no channel to a host, so link ${link} cannot be made here; only a process apartment's main thread has one`);
    keepEarlyMessages(host);
    childEnds.set(link, (end = new IpcTransport(link, host)));
  }
  return end;
}

/** The host's end of the 'ipc' link whose far end is `far`, once; undefined when there is none. */
export function claimIpcEnd(far: unknown): IpcTransport | undefined {
  const id = (far as IpcEnd | null)?.ipc;
  return unclaimed.claim(typeof id === 'number' ? id : undefined);
}
