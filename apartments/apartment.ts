// The main thread's handle on one worker apartment: its host (a worker thread today), its link
// kind, its lifecycle state and events, and the operations a runtime performs on it (create an
// object there, read its counts, close it).
import { setLongTimeout } from '../marshal/long-timer.js';
import { controlClient, endpointTransport, wireName } from './control-plane.js';
import { ApartmentService, ObjectsService } from './engine-services.js';
import { EventEmitter } from 'node:events';
import type * as TypedEmitterTypes from 'typed-emitter';
import { ApartmentFaultedError, CallTimeoutError, DisconnectedError, ProtocolError } from '../marshal/errors.js';
import type { Endpoint } from '../marshal/endpoint.js';
import type { ApartmentStats } from './apartment-stats.js';
import { CONTROL_OID } from '../marshal/protocol.js';
import type { Remote } from '../marshal/proxy.js';
import { isLive, transition, type ApartmentState } from './apartment-state.js';
import { callOptions } from '../marshal/call-options.js';
import type { LinkKindDefinition } from '../marshal/transport.js';
import type { ApartmentHost, RelayEnd } from './apartment-host.js';
import { SCRIPT_GATE_BYTES } from './script-gate.js';

/**
 * How long a host may take to report its end after the apartment's link closed: the exit event of
 * a thread or the Exited of a process normally follows at once; generous for a loaded machine.
 */
const LINK_CLOSED_GRACE_MS = 10_000;

/** How long close() waits for an apartment to acknowledge before terminating its host. */
const CLOSE_GRACE_MS = 2_000;

/** Events of one apartment. */
export type ApartmentEvents = {
  ready: () => void;
  closed: () => void;
  fault: (error: ApartmentFaultedError) => void;
};

/** A worker apartment as the host sees it. Main thread only. */
export class Apartment extends (EventEmitter as new () => TypedEmitterTypes.default<ApartmentEvents>) {
  private current: ApartmentState = 'starting';
  private faultError: ApartmentFaultedError | undefined;
  /** Settles when the apartment said Ready (or failed before it could). */
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private failStart!: (err: Error) => void;
  private readonly exited: Promise<void>;
  private busy = false;
  private successor: Apartment | undefined;
  /** Shared with the apartment: which script run may be interrupted there (script-gate.ts). */
  readonly scriptGate: Int32Array;
  /** The last load read from the apartment (refreshLoad() updates it): what load-based policies compare. */
  load: { objects: number; queuedCalls: number; runningCalls: number } = { objects: 0, queuedCalls: 0, runningCalls: 0 };

  constructor(
    readonly id: number,
    readonly name: string,
    /** How messages name it: its name and id, and where it runs when not on a thread of this process. */
    readonly label: string,
    /** The kind of its links (to the main apartment, and offered to peers). */
    readonly link: LinkKindDefinition,
    private readonly host: ApartmentHost,
    private readonly endpoint: Endpoint,
    private readonly onGone: (apartment: Apartment, reason: Error) => void,
    scriptGate: SharedArrayBuffer = new SharedArrayBuffer(SCRIPT_GATE_BYTES),
    /** Whether calls are followed across awaits there. */
    readonly asyncCausality = true,
  ) {
    super();
    this.scriptGate = new Int32Array(scriptGate);
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.failStart = reject;
    });
    this.ready.catch(() => {});
    this.exited = new Promise<void>((resolve) => host.once('exit', () => resolve()));
    host.on('error', (err) => this.fault(err));
    this.exited.then(() => this.updateKeepAlive());
    host.once('exit', (code, description) => {
      if (this.current !== 'closing') this.fault(new Error(description ?? `${host.identity} exited with code ${code}`));
      else this.finishClose();
    });
  }

  get state(): ApartmentState {
    return this.current;
  }

  /** The error the apartment faulted with, if it did. */
  get faultReason(): ApartmentFaultedError | undefined {
    return this.faultError;
  }

  /** The name of the link kind its links use. */
  get transport(): string {
    return this.link.name;
  }

  /** Resolves once its host has ended: its thread or process exited, or its node let it go. */
  get hostEnded(): Promise<void> {
    return this.exited;
  }

  /** Who hosts it, for logs: "thread 7". */
  get hostIdentity(): string {
    return this.host.identity;
  }

  /** A new link to this apartment for the main apartment to relay over (broker.ts), if its host can make one. */
  relayEnd(): RelayEnd | undefined {
    return this.host.relayEnd();
  }

  /** The worker thread id when a thread of this process hosts it (diagnostics, script interrupts); undefined otherwise. */
  get threadId(): number | undefined {
    return this.host.threadId;
  }

  /**
   * The apartment that replaced this one after it faulted (restart: 'on-fault'), following later
   * restarts to the newest; undefined until a replacement is ready. The handle itself does not
   * follow the restart: objects are never resurrected, so it keeps failing with the fault.
   */
  get replacement(): Apartment | undefined {
    return this.successor?.replacement ?? this.successor;
  }

  /** Runtime internals: `next` replaced this faulted apartment. */
  replacedBy(next: Apartment): void {
    this.successor = next;
  }

  /** A short form for console.log() and util.inspect(): not the emitter and worker internals. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Apartment { ${this.label}, ${this.current} }`;
  }

  /** Runtime internals: fault the apartment unless it says Ready within `ms` of its host's start. */
  startDeadline(ms: number): void {
    const timer = setTimeout(() => {
      if (this.current !== 'starting') return;
      this.fault(new CallTimeoutError(`[start-timeout] ${this.label} did not say it is ready within ${ms} ms of its start: ${this.host.identity} is stuck, or too busy to start it, so the apartment was ended; raise startTimeoutMs if its start is only slow`));
    }, ms);
    // Nothing waits on the timer itself: the host's thread, process or connection keeps the process alive.
    timer.unref();
    const clear = (): void => clearTimeout(timer);
    this.ready.then(clear, clear);
  }

  /**
   * Runtime internals: its link to the main apartment closed, not for a protocol fault. Its host's
   * end follows at once and says why (a thread's exit, a process's Exited); a host that closed the
   * link and stayed (a process whose plugin wrote the Close itself) would leave the apartment
   * 'ready' with every call waiting out its deadline, so it faults after a grace instead.
   */
  linkClosed(): void {
    if (!isLive(this.current)) return;
    const timer = setTimeout(() => {
      if (!isLive(this.current)) return;
      this.fault(new ProtocolError(`[link-closed] ${this.host.identity} closed the apartment's link and did not end it within ${LINK_CLOSED_GRACE_MS} ms; its process or node breaks the protocol`));
    }, LINK_CLOSED_GRACE_MS);
    timer.unref();
  }

  /** Runtime internals: the worker said Ready. */
  readyReceived(): void {
    if (this.current !== 'starting') return;
    this.current = transition(this.current, 'ready', this.label);
    this.updateKeepAlive();
    this.markReady();
    this.emit('ready');
  }

  /**
   * Runtime internals: the apartment broke the protocol on its link to the main apartment (the
   * link was faulted): it can no longer be reached, so it faults, and its thread is ended.
   */
  linkFaulted(cause: Error): void {
    if (isLive(this.current)) this.fault(cause);
  }

  /** Create an instance of a registered class in this apartment; the caller gets a proxy. */
  async createObject<T = unknown>(className: string, ...args: unknown[]): Promise<Remote<T>> {
    this.assertLive();
    return (await controlClient(endpointTransport(this.endpoint), this.id, ObjectsService).createObject(className, args)) as Remote<T>;
  }

  /** Export and proxy counts inside the apartment (lifetime specs assert they end at zero). */
  async stats(): Promise<ApartmentStats> {
    this.assertLive();
    return controlClient(endpointTransport(this.endpoint), this.id, ApartmentService).stats();
  }

  /** Read the apartment's live objects and queued calls into `load`. */
  async refreshLoad(): Promise<void> {
    const s = await this.stats();
    this.load = { objects: s.exports, queuedCalls: s.queuedCalls, runningCalls: s.runningCalls };
  }

  /** Close the apartment after `delayMs` if by then nothing in it is referenced, queued or running. */
  closeWhenUnused(delayMs: number): void {
    // Not a Node timer: one past 2^31 - 1 ms (Infinity, say) fired after 1 ms.
    setLongTimeout(() => {
      if (this.current !== 'ready') return;
      this.refreshLoad().then(() => {
        if (this.current === 'ready' && this.load.objects === 0 && this.load.queuedCalls === 0 && this.load.runningCalls === 0) return this.close();
        return undefined;
      }).catch(() => {});
    }, delayMs, true);
  }

  /**
   * Runtime internals: the main apartment started or stopped waiting on calls into this one. An
   * apartment keeps the process alive only while it starts, closes, or has calls pending from the
   * host; an idle one does not (unref), so a host that forgets to close still exits.
   */
  setBusy(busy: boolean): void {
    this.busy = busy;
    this.updateKeepAlive();
  }

  private updateKeepAlive(): void {
    if (this.keepsAlive()) this.applyKeepAlive(true);
    else if (!this.releaseQueued) {
      // Let go a turn later, not now: a caller that makes one call after another is busy again
      // before then, so a call does not cost four native ref/unref calls (thread and link, twice).
      this.releaseQueued = true;
      setImmediate(this.releaseIfIdle);
    }
  }

  private keepsAlive(): boolean {
    return this.current === 'starting' || this.current === 'closing' || this.busy;
  }

  private releaseQueued = false;
  private readonly releaseIfIdle = (): void => {
    this.releaseQueued = false;
    if (!this.keepsAlive()) this.applyKeepAlive(false);
  };

  // What the thread and the link were last told, so a repeat is not told again. The link is told
  // again once its transport is attached (a channel may exist before its transport does).
  private keptAlive: boolean | undefined;
  private keptLink: unknown;
  private keptAttached = false;

  private applyKeepAlive(keep: boolean): void {
    const link = this.endpoint.channelIfAny(this.id);
    const attached = link?.link !== undefined;
    if (keep === this.keptAlive && link === this.keptLink && attached === this.keptAttached) return;
    if (keep !== this.keptAlive) {
      if (keep) this.host.ref();
      else this.host.unref();
    }
    this.keptAlive = keep;
    this.keptLink = link;
    this.keptAttached = attached;
    link?.setKeepAlive(keep);
  }

  /**
   * Close the apartment: it stops serving, its exports are disconnected (later calls fail with
   * DisconnectedError), the references it held are released, and its thread ends.
   */
  async close(): Promise<void> {
    if (this.current === 'closed' || this.current === 'faulted') return;
    if (this.current === 'closing') return this.exited;
    this.current = transition(this.current, 'closing', this.label);
    this.updateKeepAlive();
    try {
      // A thread stuck in a busy loop cannot answer: do not wait the full call deadline for it.
      await this.endpoint.call(this.id, CONTROL_OID, wireName(ApartmentService, 'close'), [], callOptions({ timeoutMs: CLOSE_GRACE_MS }));
    } catch {
      // It could not acknowledge (busy or dying): terminating below ends it all the same.
    }
    await this.host.terminate();
    await this.exited;
  }

  /** Stop the apartment's thread at once (like a crash): in-flight calls fail with ApartmentFaultedError. */
  async terminate(): Promise<void> {
    if (!isLive(this.current) && this.current !== 'closing') return;
    this.fault(new Error('the apartment was terminated by its host'));
    await this.exited;
  }

  private finishClose(): void {
    if (this.current !== 'closing') return;
    this.current = transition(this.current, 'closed', this.label);
    this.failStart(new DisconnectedError(`[apartment-closed] ${this.label} was closed before it became ready`));
    this.onGone(this, new DisconnectedError(`[apartment-closed] ${this.label} was closed; its objects are disconnected — create new ones in a live apartment`));
    this.emit('closed');
  }

  private fault(cause: unknown): void {
    if (this.current === 'closed' || this.current === 'faulted') return;
    const err = new ApartmentFaultedError(`[apartment-faulted] ${this.label} failed (${(cause as Error)?.message ?? String(cause)}); its objects are disconnected — see the cause, then create new objects`, { cause });
    this.faultError = err;
    this.current = transition(this.current, 'faulted', this.label);
    this.failStart(err);
    this.onGone(this, err);
    if (this.listenerCount('fault') > 0) this.emit('fault', err);
    void this.host.terminate();
  }

  private assertLive(): void {
    if (this.faultError) {
      const next = this.replacement;
      const where = next ? `its replacement, apartment.replacement (${next.label})` : 'a live apartment';
      throw new DisconnectedError(`[apartment-faulted] ${this.label} faulted earlier; it serves nothing any more — create objects in ${where} (the cause says what happened)`, { cause: this.faultError });
    }
    if (!isLive(this.current)) {
      throw new DisconnectedError(`[apartment-closed] ${this.label} is ${this.current}; create objects in a live apartment`);
    }
  }
}
