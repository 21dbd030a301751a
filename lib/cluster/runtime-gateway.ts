// One runtime's link to another's, between their main apartments, on their node pair's NATS
// session: how an object one runtime published reaches another (docs/cluster.md, "References
// between runtimes"). Each side is an endpoint of its own beside the main apartment's, so the other
// runtime reaches only what it was handed — the objects it opened by name and what their calls
// return — never the main apartment's control services (interface table, shared resources, named
// objects). Its calls run in the main apartment under the main apartment's rules. A proxy of the
// main apartment's handed over (an object in one of this runtime's worker apartments) travels as
// an object of this endpoint that forwards calls (endpoint.ts), and so does a proxy of the other
// runtime's that this runtime hands to its own apartments. Main thread only.
import { cantCallOut } from '../../apartments/input-sync.js';
import { currentCall } from '../../apartments/context.js';
import { controlClient, controlService, ControlRouter, endpointTransport } from '../../apartments/control-plane.js';
import { text } from '../../apartments/control-args.js';
import type { LocalApartment } from '../../apartments/local-apartment.js';
import { Endpoint } from '../../marshal/endpoint.js';
import { decodeError } from '../../marshal/error-codec.js';
import { ApartmentFaultedError, DisconnectedError } from '../../marshal/errors.js';
import { Op } from '../../marshal/protocol.js';
import type { IpcTransport } from '../../marshal/transports/ipc-transport.js';
import { natsLink } from '../../marshal/transports/nats-link.js';

/** The ids the two sides' endpoints go by on the link (above any apartment id): the opener's and the other's. */
export const OPENER_ID = 2_000_000_001;
export const SERVER_ID = 2_000_000_002;

/** What an opening runtime may ask of the other: an object it published, by name, and one it registered in its global interface table, by cookie. */
interface PublishedApi {
  open(name: string): unknown;
  cookie(cookie: string): unknown;
  revokeCookie(cookie: string): void;
}

/** What a runtime serves another on their link (published-object names, interface-table cookies). */
export interface GatewayServing {
  /** The object published as `name`; throws when there is none. */
  open(name: string): unknown;
  /** The object registered as `cookie` in this runtime's global interface table; throws when there is none. */
  cookie(cookie: string): Promise<unknown>;
  /** Revoke this runtime's `cookie`. */
  revokeCookie(cookie: string): Promise<void>;
}
const PublishedService = controlService<PublishedApi>('published');

/** The longest name of a published object (a directory key). */
const MAX_NAME = 128;
/** The longest cookie of a node's global interface table (interface-table.ts). */
const MAX_COOKIE = 200;

/** This runtime's side of its link with the runtime of one other node. */
export class RuntimeGateway {
  readonly endpoint: Endpoint;
  private readonly peer: number;
  private readonly peerLabel: string;
  private endedWith: Error | undefined;

  /**
   * The side that `opened` the link asks for objects by name; the other serves them with `serve`
   * (which throws for a name it does not publish). `ended` hears once the link is over.
   */
  constructor(local: LocalApartment, readonly node: string, opened: boolean, near: IpcTransport, serve: GatewayServing | undefined, warn: (message: string) => void, private readonly ended: () => void) {
    const self = opened ? OPENER_ID : SERVER_ID;
    const peer = opened ? SERVER_ID : OPENER_ID;
    this.peer = peer;
    const peerLabel = `the runtime of node '${node}'`;
    this.peerLabel = peerLabel;
    const label = (id: number): string => (id === peer ? peerLabel : id === self ? 'this runtime' : `apartment ${id} of ${peerLabel}`);
    this.endpoint = new Endpoint({
      self,
      defaultTimeoutMs: local.defaultTimeoutMs,
      dispatcher: local.dispatcher,
      causality: (method, to) => {
        const served = currentCall();
        if (served?.inputSync && to !== undefined) throw cantCallOut(`call '${String(method)}'`, label(to));
        return served?.causality ?? local.newCausality();
      },
      // Another runtime's reference names an object of that runtime's own side of the link, or of
      // this one; one naming a third party (an apartment there) reaches nothing from here.
      connect: (other) => queueMicrotask(() => this.endpoint.peerGone(other, new DisconnectedError(`[node-reference] ${peerLabel} sent a reference to an object of its apartment ${other}, which this runtime cannot reach; a runtime hands on only objects it holds itself (its main apartment forwards them)`, { code: 'CO_E_OBJNOTCONNECTED' }))),
      onLifecycle: (_channel, msg) => {
        if (msg[0] === Op.PeerGone && msg[1] === peer) return this.end(decodeError(msg[2]));
        warn(`[lifecycle] ${peerLabel} sent a lifecycle message on the link between the runtimes, which no runtime sends there; ignored`);
      },
      label,
      warn,
    });
    const router = new ControlRouter(self, () => 'worker');
    if (serve) {
      router.register(PublishedService, {
        open: { roles: ['worker'], check: (args) => [text(args[0], 'name', MAX_NAME)], run: (_caller, name) => serve.open(name) },
        cookie: { roles: ['worker'], check: (args) => [text(args[0], 'cookie', MAX_COOKIE)], run: (_caller, cookie) => serve.cookie(cookie) },
        revokeCookie: { roles: ['worker'], check: (args) => [text(args[0], 'cookie', MAX_COOKIE)], run: (_caller, cookie) => serve.revokeCookie(cookie) },
      });
    }
    this.endpoint.control = router.target;
    this.endpoint.attach(peer, near, natsLink);
  }

  /** Whether the link still carries calls. */
  get live(): boolean {
    return this.endedWith === undefined;
  }

  /** Why the link ended, once it has. */
  get endReason(): Error | undefined {
    return this.endedWith;
  }

  /** The object the other runtime publishes as `name` (a proxy), from the opening side. */
  open(name: string): Promise<unknown> {
    return controlClient(endpointTransport(this.endpoint), this.peer, PublishedService).open(name);
  }

  /** The object the other runtime registered in its global interface table as `cookie` (a proxy), from the opening side. */
  cookie(cookie: string): Promise<unknown> {
    return controlClient(endpointTransport(this.endpoint), this.peer, PublishedService).cookie(cookie);
  }

  /** Revoke the other runtime's `cookie` there. */
  async revokeCookie(cookie: string): Promise<void> {
    await controlClient(endpointTransport(this.endpoint), this.peer, PublishedService).revokeCookie(cookie);
  }

  /** The other node is gone (`why`): calls in flight fail as for a dead process, and its objects are disconnected. */
  nodeGone(why: string): void {
    this.end(new ApartmentFaultedError(`[node-gone] ${this.peerLabel} is gone: ${why}`));
  }

  /** The link is over (`reason`): the other runtime's references here are released, and what it published is disconnected. */
  end(reason: Error): void {
    if (this.endedWith) return;
    this.endedWith = reason;
    this.endpoint.peerGone(this.peer, reason);
    this.ended();
  }
}
