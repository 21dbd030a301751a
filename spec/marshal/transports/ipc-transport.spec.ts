import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { CallRejectedError, ProtocolError } from '../../../marshal/errors.js';
import { Op, type Batch } from '../../../marshal/protocol.js';
import { IpcTransport, type IpcPeer } from '../../../marshal/transports/ipc-transport.js';
import { CHANNEL_FD, CHANNEL_VARIABLE, PipeChannel } from '../../../marshal/transports/pipe-channel.js';
import { HANG_GUARD_MS, isRunning, until } from '../../fixtures/process-fixture.js';

const ECHO = fileURLToPath(new URL('../../fixtures/ipc-echo.js', import.meta.url));
const HOSTILE = fileURLToPath(new URL('../../fixtures/ipc-hostile.js', import.meta.url));
/** The link number the echo child attaches to. */
const LINK = 1;
let child: ChildProcess | undefined;

afterEach(() => {
  if (child?.pid !== undefined && isRunning(child.pid)) child.kill('SIGKILL');
  child = undefined;
});

/** Start the echo child (or `script`) with a channel to this process, as a process server does; resolves to that channel once it listens. */
async function echoChild(script = ECHO): Promise<PipeChannel> {
  child = spawn(process.execPath, [...process.execArgv, script], {
    env: { ...process.env, [CHANNEL_VARIABLE]: String(CHANNEL_FD) },
    stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
  });
  const started = new PipeChannel(child.stdio[CHANNEL_FD] as Socket, 'the echo child');
  await new Promise<void>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error('the echo child never said ready')), HANG_GUARD_MS);
    started.on('message', (m) => {
      if (Array.isArray(m) && m[0] === 'ready') {
        clearTimeout(guard);
        resolve();
      }
    });
  });
  return started;
}

/** A batch of one message carrying `value` (the transport does not look inside). */
const batchOf = (value: unknown): Batch => [value] as unknown as Batch;

describe('marshal/transports/ipc-transport: batches cross the IPC channel in order, with structured-clone fidelity', () => {
  it('holds batches sent before the channel opens and delivers everything in order, Maps, Dates and typed arrays intact', async () => {
    const near = new IpcTransport(LINK);
    const received: unknown[] = [];
    near.listen((data) => received.push(data), () => undefined);
    near.send(batchOf({ n: 1, at: new Date(5), map: new Map([['k', new Uint8Array([1, 2])]]) }));
    near.send(batchOf({ n: 2 }));
    near.open(await echoChild());
    near.send(batchOf({ n: 3 }));
    await until('three echoes arrive', () => received.length === 3);
    expect(received.map((b) => ((b as [{ n: number }])[0]).n)).to.deep.equal([1, 2, 3]);
    const first = (received[0] as [{ at: Date; map: Map<string, Uint8Array> }])[0];
    expect(first.at).to.be.instanceOf(Date);
    expect(first.map.get('k')).to.deep.equal(new Uint8Array([1, 2]));
    near.close();
  });
});

describe('marshal/transports/ipc-transport: a batch crosses as encoded bytes when the encoder takes it, else as a clone', () => {
  it('sends plain batches as a one-byte string and the rest as the batch itself, and both arrive exactly', async () => {
    const near = new IpcTransport(LINK);
    const received: unknown[] = [];
    near.listen((data) => received.push(data), () => undefined);
    const echo = await echoChild();
    // What the child sends back, as it crossed the channel.
    const payloads: unknown[] = [];
    echo.on('message', (m) => {
      if (Array.isArray(m) && m[1] === LINK) payloads.push(m[2]);
    });
    near.open(echo);
    const plain = { zero: -0, nan: NaN, big: 2n ** 70n, text: 'héllo ✓ \u{1F600}', list: [1, undefined, null, true, 'x'], nested: { deep: [[{ a: 1.5 }]] } };
    const holey = [1, , 3];
    near.send(batchOf(plain));
    near.send(batchOf(holey));
    near.send(batchOf({ when: new Date(7) }));
    await until('three echoes arrive', () => received.length === 3);
    expect(payloads.map((p) => typeof p)).to.deep.equal(['string', 'string', 'object']);
    const [back] = received[0] as [typeof plain];
    expect(Object.is(back.zero, -0), '-0 stays -0').to.equal(true);
    expect(back).to.deep.equal(plain);
    const [holes] = received[1] as [unknown[]];
    expect(holes.length).to.equal(3);
    expect(1 in holes, 'a hole stays a hole').to.equal(false);
    expect((received[2] as [{ when: Date }])[0].when).to.deep.equal(new Date(7));
    near.close();
  });
});

describe('marshal/transports/ipc-transport: encoded bytes that are not one well-formed batch fault only their link', () => {
  it('closes a link sent malformed, oversized or empty bytes with a ProtocolError, and the channel\'s other link works on', async () => {
    const hostile = await echoChild(HOSTILE);
    const closedWith = new Map<number, unknown>();
    const received: unknown[] = [];
    for (const link of [1, 2, 3, 4]) {
      const near = new IpcTransport(link, hostile);
      near.listen((data) => received.push([link, data]), (cause) => closedWith.set(link, cause));
    }
    hostile.send(['go']);
    await until('the good batch arrives and three links are faulted', () => received.length === 1 && closedWith.size === 3);
    expect(received).to.deep.equal([[2, [['fine']]]]);
    for (const link of [1, 3, 4]) {
      expect(closedWith.get(link), `link ${link}`).to.be.instanceOf(ProtocolError);
      expect((closedWith.get(link) as Error).message).to.match(/^\[(ipc|wire)\]/);
    }
    expect(closedWith.has(2)).to.equal(false);
  });
});

describe('marshal/transports/ipc-transport: what cannot be sent fails the send at once', () => {
  it('throws for an uncloneable value before and after the channel opens, and for a transfer list; nothing of it is sent', async () => {
    const near = new IpcTransport(LINK);
    const received: unknown[] = [];
    near.listen((data) => received.push(data), () => undefined);
    expect(() => near.send(batchOf({ fn: () => 1 }))).to.throw();
    near.open(await echoChild());
    expect(() => near.send(batchOf({ buf: new SharedArrayBuffer(8) }))).to.throw();
    const buffer = new ArrayBuffer(4);
    expect(() => near.send(batchOf(buffer), [buffer])).to.throw(/cannot be moved to another process/);
    near.send(batchOf('after'));
    await until('the good batch echoes', () => received.length === 1);
    expect(received).to.deep.equal([['after']]);
    near.close();
  });
});

describe('marshal/transports/ipc-transport: closing either side closes the other', () => {
  it('fires the close listener when the child dies, and closing this side ends the child', async () => {
    const near = new IpcTransport(LINK);
    let closed = false;
    near.listen(() => undefined, () => {
      closed = true;
    });
    near.open(await echoChild());
    child!.kill('SIGKILL');
    await until('the close listener fires', () => closed);

    const other = new IpcTransport(LINK);
    other.open(await echoChild());
    const living = child!;
    other.close();
    await until('the child ends once its channel closed', () => living.exitCode !== null || living.signalCode !== null);
    expect(living.exitCode).to.equal(0);
  });
});

describe('marshal/transports/ipc-transport: a peer that left too much unread is sent bookkeeping, not calls', () => {
  it('refuses batches with calls, notifications or answers with the peer\'s refusal, and still sends releases, AddRefs and cancels', () => {
    const sent: unknown[] = [];
    const refusal = new CallRejectedError('[pipe-backlog] the peer left too much unread', { code: 'RPC_E_SERVERCALL_RETRYLATER' });
    const peer: IpcPeer = {
      connected: true,
      send: (message) => sent.push(message) > 0,
      backlogRefusal: () => refusal,
      on: () => peer,
    };
    const near = new IpcTransport(LINK, peer);
    const bookkeeping = [[Op.Release, 7, 1], [Op.AddRef, 3, 8, 2], [Op.Cancel, 4], [Op.LoanReturn, 9, 1], [Op.ReleaseAnswer, 5]];
    for (const message of bookkeeping) near.send([message] as unknown as Batch);
    expect(sent, 'every bookkeeping batch went').to.have.length(bookkeeping.length);
    const carrying = [[Op.Call, 1, 2, 'm', [], [], 0], [Op.PipelineCall, 2, 2, 1, 'm', [], [], 0], [Op.Notify, 2, 'm', [], [], 0], [Op.Result, 1, 5, []], [Op.Error, 1, {}]];
    for (const message of carrying) {
      expect(() => near.send([[Op.Release, 7, 1], message] as unknown as Batch), `op ${message[0]}`).to.throw(refusal.message);
    }
    expect(sent, 'and none that carried a call or an answer').to.have.length(bookkeeping.length);
    near.close();
  });
});

describe('marshal/transports/ipc-transport: a link a process relays for one of its threads is not held back', () => {
  it("sends the thread's calls and answers to a peer over its backlog, where nobody could fail them", () => {
    const sent: unknown[] = [];
    const peer: IpcPeer = {
      connected: true,
      send: (message) => sent.push(message) > 0,
      backlogRefusal: () => new CallRejectedError('[pipe-backlog] the peer left too much unread', { code: 'RPC_E_SERVERCALL_RETRYLATER' }),
      on: () => peer,
    };
    const relayed = new IpcTransport(LINK, peer).relaysForThread();
    const carrying = [[Op.Call, 1, 2, 'm', [], [], 0], [Op.Result, 1, 5, []], [Op.Error, 1, {}]];
    for (const message of carrying) relayed.send([message] as unknown as Batch);
    expect(sent).to.have.length(carrying.length);
    relayed.close();
  });
});
