import { expect } from 'chai';
import type { ClusterConnection, ControlOutcome, ControlReply, ControlRequest } from '../../../apartments/hosts/cluster-connection.js';
import { remoteNode } from '../../../apartments/hosts/remote-node.js';
import { IpcTag, IpcTransport } from '../../../marshal/transports/ipc-transport.js';
import { decodeFrame, NatsPeer, type NatsFrame } from '../../../marshal/transports/nats-peer.js';
import { ReassemblyBudget } from '../../../marshal/transports/reassembly-budget.js';

// A host's view of a node that runs its apartments (remote-node.ts), with the cluster connection
// faked in memory: the node's answers to the hello and the pings are the spec's to write, as a
// broken or hostile node would write them, and its frames are handed to the host's sessions as the
// node's router would hand them.

/** Node 'a' as a host, every session it opens drawing on one allowance for parts; `answer` writes the node's replies. */
class FakeConnection implements ClusterConnection {
  readonly name = 'a';
  readonly epoch = 'ea';
  readonly cluster = 'apartments';
  readonly heartbeat = { periodMs: 10, misses: 1_000 };
  readonly inbox = 'apartments.a.ea';
  readonly budget = new ReassemblyBudget();
  readonly sessions = new Map<string, NatsPeer>();
  pings = 0;

  constructor(private readonly answer: (request: ControlRequest) => ControlReply) {}

  async control(_node: string, request: ControlRequest): Promise<ControlOutcome> {
    if (request.op === 'ping') this.pings++;
    return { kind: 'reply', reply: this.answer(request) };
  }

  session(node: string, _subject: string, id: string): NatsPeer {
    const peer = new NatsPeer({ name: this.name, maxPayload: 4_096, publish: () => undefined, reassembly: this.budget }, node, id);
    this.sessions.set(id, peer);
    return peer;
  }

  inboxOf(node: string, epoch: string): string {
    return `${this.cluster}.${node}.${epoch}`;
  }

  inboxFor(node: string, epoch: string): string {
    return `${this.inboxOf(node, epoch)}.${this.name}`;
  }

  endSession(): void {}

  reassemblyFor(): ReassemblyBudget {
    return this.budget;
  }
}

/** The frames of one message of `bytes` bytes that node `from` sends on session `session` in parts of at most 4 KiB. */
function partsOf(from: string, session: string, bytes: number): NatsFrame[] {
  const published: Uint8Array[] = [];
  new NatsPeer({ name: from, maxPayload: 4_096, publish: (b) => published.push(new Uint8Array(b)) }, 'a', session).send(['t:big', 1, new Uint8Array(bytes).fill(7)]);
  return published.map((b) => {
    const frame = decodeFrame(b);
    if (typeof frame === 'string') throw new Error(frame);
    return frame;
  });
}

/** Place an apartment of link 1 on node `node`; what the host was told of its end. */
async function placed(connection: FakeConnection, node: string): Promise<{ ends: string[] }> {
  const ends: string[] = [];
  remoteNode(connection, node).join({ ended: (_code, description) => ends.push(description), failed: () => undefined }, { link: 1, boot: {}, resourceLimits: undefined, near: new IpcTransport(1) });
  await until(() => connection.sessions.size === 2);
  return { ends };
}

/** Wait until `check` holds, polling; the hang guard of the spec runner is the limit. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

describe('apartments/hosts/remote-node: a node that leaves its counts out of its heartbeat answers holds no parts here for good', () => {
  it("ends the node pair's session, and the apartments there, when the node began a parted message and its answers never say how many frames it sent", async () => {
    const connection = new FakeConnection(() => ({ epoch: 'ex', knows: true }));
    const { ends } = await placed(connection, 'x-no-sent');
    const [pair] = [...connection.sessions.values()];
    const frames = partsOf('x-no-sent', pair!.id, 12_000);
    expect(frames.length).to.be.greaterThan(2);
    // Every part but the last.
    for (const frame of frames.slice(0, -1)) pair!.receive(frame);
    expect(connection.budget.bytes, 'the parts are held').to.be.greaterThan(0);
    const from = connection.pings;
    // Heartbeats answered, each saying the node knows the session, none saying what it sent.
    await until(() => connection.pings >= from + 5 || ends.length > 0);
    expect(ends, 'the apartment ended with the session').to.have.length(1);
    expect(ends[0]).to.contain('[malformed-frame]');
    expect(pair!.connected).to.equal(false);
    expect(connection.budget.bytes, 'the parts were given back').to.equal(0);
  });

  it("ends an apartment's session when the node began a parted message there and its answers leave that apartment's count out", async () => {
    const connection = new FakeConnection(() => ({ epoch: 'ex', knows: true, sent: 0, links: {} }));
    const { ends } = await placed(connection, 'x-no-links');
    const [pair, own] = [...connection.sessions.values()];
    // The apartment's thread says hello (its ends open), then begins a message it never finishes.
    own!.receive({ from: 'x-no-links', session: own!.id, seq: 0, tag: IpcTag.Hello, link: 0, payload: null });
    for (const frame of partsOf('x-no-links', own!.id, 12_000).slice(0, -1)) own!.receive({ ...frame, seq: frame.seq + 1 });
    expect(connection.budget.bytes, 'the parts are held').to.be.greaterThan(0);
    const from = connection.pings;
    await until(() => connection.pings >= from + 5 || ends.length > 0);
    expect(ends, 'the apartment ended').to.have.length(1);
    expect(ends[0]).to.contain('[malformed-frame]');
    expect(own!.connected).to.equal(false);
    expect(pair!.connected, "the node pair's session goes on").to.equal(true);
    expect(connection.budget.bytes, 'the parts were given back').to.equal(0);
    remoteNode(connection, 'x-no-links').gone('the spec is over');
  });
});
