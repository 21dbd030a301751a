// What the hosts of apartments served elsewhere (a process server, another node) share: the server
// tells the host how the apartment ended or what failed (ServedApartment), and the host turns that
// into its 'exit' and 'error' events, once, and into the promise its terminate() waits for.
import { EventEmitter } from 'node:events';
import type { ServedApartment } from './process-server.js';

/** The end of an apartment another process or node serves, as its host reports it. */
export abstract class ServedHost extends EventEmitter implements ServedApartment {
  /** The apartment ended ('exit' has fired); its host takes nothing more from the server. */
  protected done = false;
  /** Resolves once the apartment ended. */
  protected readonly exited: Promise<void>;
  private markExited!: () => void;

  constructor() {
    super();
    this.exited = new Promise((resolve) => {
      this.markExited = resolve;
    });
  }

  /** Apartments served elsewhere run on no thread of this process. */
  get threadId(): number | undefined {
    return undefined;
  }

  ended(code: number, description: string): void {
    if (this.done) return;
    this.done = true;
    this.markExited();
    this.emit('exit', code, description);
  }

  failed(error: Error): void {
    if (!this.done) this.emit('error', error);
  }
}
