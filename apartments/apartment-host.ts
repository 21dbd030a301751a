// What hosts an apartment: the engine starts, keeps alive, ends and watches an apartment through
// this interface only, so a worker thread (hosts/worker-host.ts) can be joined by a child process
// or another machine without touching the engine. The composition root picks the host factory.
import type { ResourceLimits } from 'node:worker_threads';
import type { Transferable, Transport } from '../marshal/transport.js';
import type { ApartmentBoot } from './worker-boot.js';

/** Events of a host. */
export type ApartmentHostEvents = {
  /**
   * The apartment's thread or process ended, with its exit code and, when the host knows more (a
   * signal, the end of a process's stderr), a sentence saying how. Fires once.
   */
  exit: (code: number, description?: string) => void;
  /** Something failed there that it could not handle (an uncaught error, a failed start). */
  error: (error: Error) => void;
};

/** What a host is given to start one apartment. */
export interface HostStart {
  /** The boot record to pass on to the apartment, as it is (structured-cloneable). */
  readonly boot: ApartmentBoot;
  /** What passing the boot record must move (the far end of the link to the main apartment). */
  readonly transfer: Transferable[];
  /** Resource caps the host should apply, if it can. */
  readonly resourceLimits: ResourceLimits | undefined;
}

/**
 * A further link to an apartment whose near end the main apartment keeps: it relays what crosses it
 * to and from another apartment that cannot be linked to this one directly. `kind` and `end` go to
 * the apartment in a Connect message (moving `transfer`); the kind says what the relayed link carries.
 */
export interface RelayEnd {
  readonly near: Transport;
  readonly kind: string;
  readonly end: unknown;
  readonly transfer: Transferable[];
}

/** One apartment's host, as the main apartment sees it. */
export interface ApartmentHost {
  /** Who hosts the apartment, for logs and error messages: "thread 7", "process 4242". */
  readonly identity: string;
  /** The worker thread id when the host is a thread of this process (script interrupts need it); undefined otherwise. */
  readonly threadId: number | undefined;
  /** A new relayed link to the apartment, or undefined when this host cannot make one. */
  relayEnd(): RelayEnd | undefined;
  /** Start the apartment; 'exit' and 'error' fire from now on. Throws if it cannot even begin. */
  start(): void;
  /** Let the host keep this process alive (ref) or not (unref). */
  ref(): void;
  unref(): void;
  /** End the apartment at once; resolves once it has ended ('exit' has fired). */
  terminate(): Promise<void>;
  on<E extends keyof ApartmentHostEvents>(event: E, listener: ApartmentHostEvents[E]): unknown;
  once<E extends keyof ApartmentHostEvents>(event: E, listener: ApartmentHostEvents[E]): unknown;
}

/** Makes the host of each new apartment; chosen by the composition root. */
export type ApartmentHostFactory = (start: HostStart) => ApartmentHost;
