// The host's ends of links over a tagged channel ('ipc' to a child process, 'nats' to another
// node), made by the link kind before the channel exists and claimed once by the host that opens
// them on it, by the number in the far end. Main thread only.
import { IpcTransport } from './ipc-transport.js';

/** Ends made and not claimed yet, numbered from 1. */
export class UnclaimedEnds {
  private readonly ends = new Map<number, IpcTransport>();
  private next = 1;

  /** A new link number and the host's end of it, kept until claimed or closed. */
  make(): { number: number; near: IpcTransport } {
    const number = this.next++;
    const near = new IpcTransport(number);
    this.ends.set(number, near);
    // A host that never claims the end (its start failed) closes it: then it is forgotten too.
    const close = near.close.bind(near);
    near.close = () => {
      this.ends.delete(number);
      close();
    };
    return { number, near };
  }

  /** The end of link `number`, once; undefined when there is none. */
  claim(number: number | undefined): IpcTransport | undefined {
    if (number === undefined) return undefined;
    const near = this.ends.get(number);
    this.ends.delete(number);
    return near;
  }
}
