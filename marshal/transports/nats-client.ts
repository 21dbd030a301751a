// What a node and its apartments' threads use of the NATS client (`@nats-io/transport-node`,
// `@nats-io/kv`), described here so that this package's own type declarations never name those
// packages: they are optional peers, installed only by users whose runtimes join a cluster. The
// client's objects fit these shapes. Types only.

/** How a connection proves who it is to a server that requires it (the account's user, or a token). */
export type NatsAuth = { readonly user: string; readonly pass: string } | { readonly token: string };

/** A message as a subscription or a request answers it. */
export interface NatsMessage {
  /** The subject it was published to (a subscription to a wildcard hears several). */
  readonly subject: string;
  readonly data: Uint8Array;
  readonly reply?: string | undefined;
  respond(data?: string | Uint8Array): boolean;
}

/** One connection to a NATS server (of a cluster of them). */
export interface NatsClient {
  readonly info?: { readonly max_payload: number } | undefined;
  publish(subject: string, data?: string | Uint8Array): void;
  subscribe(subject: string, options: { callback: (err: Error | null, msg: NatsMessage) => void }): unknown;
  request(subject: string, data: string | Uint8Array, options: { timeout: number }): Promise<NatsMessage>;
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Resolves once the connection is closed for good (not while it reconnects). */
  closed(): Promise<void | Error>;
}

/** An entry of a key-value bucket. */
export interface KeyValueEntry {
  readonly revision: number;
  readonly operation: string;
  string(): string;
}

/** A JetStream key-value bucket. */
export interface KeyValueBucket {
  create(key: string, value: string): Promise<number>;
  update(key: string, value: string, revision: number): Promise<number>;
  get(key: string): Promise<KeyValueEntry | null>;
  delete(key: string, options: { previousSeq: number }): Promise<void>;
}
