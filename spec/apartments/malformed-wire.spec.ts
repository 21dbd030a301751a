import { expect } from 'chai';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { CONTROL_OID, Op, PROTOCOL_VERSION, type Batch, type Message } from '../../marshal/protocol.js';
import type { WorkerBoot } from '../../apartments/worker-boot.js';
import { DEFAULT_CALL_LIMITS } from '../../apartments/call-limits.js';
import { SCRIPT_GATE_BYTES } from '../../apartments/script-gate.js';

// This spec plays the main apartment by hand: a real worker apartment, and raw wire messages.
let worker: Worker | undefined;
let port: MessagePort | undefined;
afterEach(async () => {
  port?.close();
  await worker?.terminate();
  worker = undefined;
});

function startApartment(): { inbox: Message[]; next: (pred: (m: Message) => boolean) => Promise<Message> } {
  const { port1, port2 } = new MessageChannel();
  const boot: WorkerBoot = { id: 7, name: 'raw', kind: 'worker', pool: [], scriptGate: new SharedArrayBuffer(SCRIPT_GATE_BYTES), awakeFlag: new SharedArrayBuffer(4), asyncCausality: true, link: port2, transport: 'port', linkKinds: [], classes: [], defaultTimeoutMs: 5_000, labels: {}, reentrancy: 'turn-based', retry: undefined, hooks: [], callLimits: DEFAULT_CALL_LIMITS };
  worker = new Worker(new URL('../../lib/worker-main.js', import.meta.url), { workerData: boot, transferList: [port2] });
  port = port1;
  const inbox: Message[] = [];
  const waiters: [(m: Message) => boolean, (m: Message) => void][] = [];
  port1.on('message', (batch: Batch) => {
    for (const m of batch) {
      inbox.push(m);
      const i = waiters.findIndex(([p]) => p(m));
      if (i >= 0) waiters.splice(i, 1)[0]![1](m);
    }
  });
  return {
    inbox,
    next: (pred) => new Promise((resolve) => {
      const found = inbox.find(pred);
      if (found) resolve(found);
      else waiters.push([pred, resolve]);
    }),
  };
}

describe('apartments/malformed-wire: a worker apartment fed bad messages keeps serving', () => {
  it('says Ready with the protocol version first', async () => {
    const { next } = startApartment();
    const ready = await next((m) => m[0] === Op.Ready);
    expect(ready).to.deep.equal([Op.Ready, PROTOCOL_VERSION, 7]);
  });

  it('answers a malformed call with a ProtocolError, logs other garbage, and still serves', async () => {
    const { next } = startApartment();
    await next((m) => m[0] === Op.Ready);
    port!.postMessage([[Op.Call, 5, CONTROL_OID, 42, 'not-args', 0, 0]]);
    const reply = await next((m) => m[0] === Op.Error && m[1] === 5);
    expect((reply[2] as { name: string }).name).to.equal('ProtocolError');

    port!.postMessage('not even a batch');
    port!.postMessage([[250, 1, 2], null, { op: 1 }]);
    const log = await next((m) => m[0] === Op.Notify && m[1] === 'runtime.log');
    expect(String((log[2] as unknown[])[1])).to.contain('[protocol]');

    port!.postMessage([[Op.Call, 6, CONTROL_OID, 'apartment.stats', [], 0, 0]]);
    const stats = await next((m) => m[0] === Op.Result && m[1] === 6);
    expect(stats[2]).to.include({ exports: 0 });
  });

  it('answers a call to an unknown object with DisconnectedError instead of hanging', async () => {
    const { next } = startApartment();
    await next((m) => m[0] === Op.Ready);
    port!.postMessage([[Op.Call, 9, 12345, 'anything', [], 0, 0]]);
    const reply = await next((m) => m[0] === Op.Error && m[1] === 9);
    expect((reply[2] as { name: string; code: string })).to.include({ name: 'DisconnectedError', code: 'CO_E_OBJNOTCONNECTED' });
  });
});
