import { expect } from 'chai';
import { CallCanceledError, CallTimeoutError, DisconnectedError, MarshalError, ProtocolError } from '../../marshal/errors.js';
import { currentCall } from '../../apartments/context.js';
import { callOptions } from '../../marshal/call-options.js';
import type { Remote } from '../../marshal/proxy.js';
import { Op, PROTOCOL_VERSION, type Batch } from '../../marshal/protocol.js';
import { endpointPair, exportTo, type EndpointPair } from './fixtures/endpoint-pair.js';

/** Wait until `ready()` holds (by polling: a loaded machine can pause the thread past any short sleep); give up after 10 s. */
async function until(ready: () => boolean): Promise<void> {
  for (const end = Date.now() + 10_000; !ready() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 2));
}

type Svc = Remote<{
  add(a: number, b: number): number;
  never(): Promise<never>;
  watch(): Promise<string>;
  echo(v: unknown): unknown;
  weird(): unknown;
}>;

function service(log: string[] = []): object {
  return {
    add: (a: number, b: number) => a + b,
    never: () => new Promise(() => {}),
    watch: () => {
      const { signal } = currentCall()!;
      return new Promise((resolve) => signal.addEventListener('abort', () => {
        log.push('callee saw abort');
        resolve('aborted');
      }));
    },
    echo: (v: unknown) => v,
    weird: () => ({ ok: 1, bad: Symbol('x') }),
  };
}

describe('marshal/channel: batching', () => {
  it('sends the calls made in one turn in batches of at most 32, in order', async () => {
    const pair = endpointPair();
    const svc = await exportTo<Svc>(pair, service());
    pair.sentByA.length = 0;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => svc.add(i, 1)));
    expect(results).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(pair.sentByA.map((b) => b.length)).to.deep.equal([32, 18]);
    const ids = (pair.sentByA.flat() as Batch).map((m) => m[1]);
    expect(ids).to.deep.equal([...ids].sort((x, y) => (x as number) - (y as number)));
  });

  it('never reuses a call id', async () => {
    const pair = endpointPair();
    const svc = await exportTo<Svc>(pair, service());
    pair.sentByA.length = 0;
    for (let i = 0; i < 5; i++) await svc.add(1, 1);
    const ids = pair.sentByA.flat().filter((m) => m[0] === Op.Call).map((m) => m[1]);
    expect(new Set(ids).size).to.equal(ids.length);
  });
});

describe('marshal/channel: deadlines', () => {
  it('fails a call that outlives its deadline with CallTimeoutError naming the method', async () => {
    const pair = endpointPair();
    const svc = await exportTo<Svc>(pair, service());
    const err = await svc.never(callOptions({ timeoutMs: 30 })).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CallTimeoutError);
    expect((err as CallTimeoutError).code).to.equal('RPC_E_TIMEOUT');
    expect((err as Error).message).to.contain("'never'").and.contain('endpoint 2');
    expect(pair.a.stats().pendingCalls).to.equal(0);
  });

  it('applies the endpoint default deadline when the call names none', async () => {
    const pair = endpointPair(40);
    const svc = await exportTo<Svc>(pair, service());
    const err = await svc.never().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CallTimeoutError);
  });
});

describe('marshal/channel: cancellation', () => {
  it('rejects at once with CallCanceledError and aborts the signal the callee watches', async () => {
    const pair = endpointPair();
    const log: string[] = [];
    const svc = await exportTo<Svc>(pair, service(log));
    const ac = new AbortController();
    const p = svc.watch(callOptions({ signal: ac.signal }));
    await new Promise((r) => setTimeout(r, 10));
    ac.abort(new Error('user gave up'));
    const err = await p.catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CallCanceledError);
    expect((err as Error).cause).to.be.instanceOf(Error);
    await until(() => log.length > 0);
    expect(log).to.deep.equal(['callee saw abort']);
  });

  it('does not send a call whose signal is already aborted', async () => {
    const pair = endpointPair();
    const svc = await exportTo<Svc>(pair, service());
    pair.sentByA.length = 0;
    const err = await svc.add(1, 2, callOptions({ signal: AbortSignal.abort() })).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CallCanceledError);
    await new Promise((r) => setTimeout(r, 10));
    expect(pair.sentByA.flat().filter((m) => m[0] === Op.Call)).to.have.length(0);
  });
});

describe('marshal/channel: close', () => {
  it('rejects every pending call with the close cause and refuses new ones', async () => {
    const pair = endpointPair();
    const svc = await exportTo<Svc>(pair, service());
    const pending = [svc.never(), svc.never()];
    const cause = new DisconnectedError('[test] gone');
    pair.a.peerGone(2, cause);
    for (const p of pending) expect(await p.catch((e: unknown) => e)).to.equal(cause);
    expect(await svc.add(1, 2).catch((e: unknown) => e)).to.equal(cause);
  });

  it('fails a call already past its deadline with CallTimeoutError caused by the close, when the link closes before the cancel is answered', async () => {
    const pair = endpointPair();
    const svc = await exportTo<Svc>(pair, service());
    // The cancel never reaches the callee: its answer (which says whether the call started) never comes.
    const send = pair.ta.send.bind(pair.ta);
    let cancelled = false;
    pair.ta.send = (batch, transfer) => {
      cancelled ||= batch.some((m) => m[0] === Op.Cancel);
      send(batch.filter((m) => m[0] !== Op.Cancel) as Batch, transfer);
    };
    const call = svc.never(callOptions({ timeoutMs: 30 })).catch((e: unknown) => e);
    await until(() => cancelled);
    expect(cancelled).to.equal(true);
    const cause = new DisconnectedError('[test] gone');
    pair.a.peerGone(2, cause);
    const err = await call;
    expect(err).to.be.instanceOf(CallTimeoutError);
    expect((err as CallTimeoutError).started).to.equal(undefined);
    expect((err as Error).cause).to.equal(cause);
    expect((err as Error).message).to.contain("'never'").and.contain('link closed');
  });
});

describe('marshal/channel: values that cannot be copied', () => {
  it('fails only the call whose argument cannot be cloned, naming its path', async () => {
    const pair = endpointPair();
    const svc = await exportTo<Svc>(pair, service());
    const good = svc.add(2, 3);
    const bad = svc.echo({ nested: { list: [1, new WeakMap()] } }).catch((e: unknown) => e);
    const bad2 = svc.echo({ s: Symbol('no') }).catch((e: unknown) => e);
    expect(await good).to.equal(5);
    const err = (await bad) as MarshalError;
    expect(err).to.be.instanceOf(MarshalError);
    expect(err.path).to.equal('args[0].nested.list[1]');
    expect(((await bad2) as MarshalError).path).to.equal('args[0].s');
  });

  it('reports a result that cannot be cloned as a MarshalError to the caller', async () => {
    const pair = endpointPair();
    const svc = await exportTo<Svc>(pair, service());
    const err = (await svc.weird().catch((e: unknown) => e)) as MarshalError;
    expect(err).to.be.instanceOf(MarshalError);
    expect(err.path).to.equal('result.bad');
  });

  it('fails the call with MarshalError when a getter throws as the failed value is read again', async () => {
    const pair = endpointPair();
    const svc = await exportTo<Svc>(pair, service());
    // A class instance is copied, not walked: the clone reads the getter, then meets the function;
    // the search for the failing place reads the getter again, and from its second read it throws.
    const value = new (class Holder {})() as Record<string, unknown>;
    let reads = 0;
    Object.defineProperty(value, 'late', {
      enumerable: true,
      get() {
        if (reads++ > 0) throw new Error('read twice');
        return 1;
      },
    });
    value.fn = (): number => 1;
    const err = (await svc.echo(value).catch((e: unknown) => e)) as MarshalError;
    expect(err).to.be.instanceOf(MarshalError);
    expect(err.path).to.match(/^args\[0\]/);
    expect(reads).to.be.greaterThan(1);
    expect(await svc.add(1, 2)).to.equal(3);
  });

  it('fails the call with MarshalError when a proxy argument throws from its traps', async () => {
    const pair = endpointPair();
    const svc = await exportTo<Svc>(pair, service());
    // The walk takes the proxy for a class instance and lets the clone refuse it (no trap runs);
    // the search for the failing place then asks for its keys, and the trap throws.
    let keyReads = 0;
    const hostile = new Proxy(new (class Shape {})(), {
      ownKeys: () => {
        keyReads++;
        throw new Error('no keys');
      },
    });
    const err = (await svc.echo([1, hostile]).catch((e: unknown) => e)) as MarshalError;
    expect(err).to.be.instanceOf(MarshalError);
    expect(err.path).to.equal('args[0][1]');
    expect(keyReads).to.equal(1);
    expect(await svc.add(2, 2)).to.equal(4);
  });

  it('fails the call with MarshalError and sends the rest of the turn when what a getter throws is itself hostile', async () => {
    const pair = endpointPair();
    const svc = await exportTo<Svc>(pair, service());
    // Thrown on the second read: a proxy whose prototype trap throws (asked by instanceof), and a
    // fake DOMException whose message cannot be made a string.
    const thrown: unknown[] = [
      new Proxy({}, { getPrototypeOf: () => { throw new Error('trap'); } }),
      Object.create(DOMException.prototype, { message: { value: { toString: () => { throw new Error('boom'); } } } }),
    ];
    for (const bad of thrown) {
      const value = new (class Holder {})();
      let reads = 0;
      Object.defineProperty(value, 'x', {
        enumerable: true,
        get() {
          if (reads++ > 0) throw bad;
          return 1;
        },
      });
      const failed = svc.echo(value).catch((e: unknown) => e);
      const sameTurn = svc.add(1, 2);
      expect(await failed).to.be.instanceOf(MarshalError);
      expect(await sameTurn).to.equal(3);
    }
  });

  it('names the failing place in a value that refers to itself, without following the cycle', async () => {
    const pair = endpointPair();
    const svc = await exportTo<Svc>(pair, service());
    const value = new (class Holder {})() as Record<string, unknown>;
    value.self = value;
    value.fn = (): number => 1;
    const err = (await svc.echo(value).catch((e: unknown) => e)) as MarshalError;
    expect(err).to.be.instanceOf(MarshalError);
    expect(err.path).to.equal('args[0].fn');
  });

  it('finds uncloneable host objects (a MessagePort not transferred) at send time', async () => {
    const pair = endpointPair();
    const svc = await exportTo<Svc>(pair, service());
    const { port1 } = new MessageChannel();
    const err = (await svc.echo([0, { port: port1 }]).catch((e: unknown) => e)) as MarshalError;
    port1.close();
    expect(err).to.be.instanceOf(MarshalError);
    expect(err.path).to.equal('args[0][1].port');
  });
});

describe('marshal/channel: malformed messages', () => {
  let pair: EndpointPair;
  beforeEach(() => {
    pair = endpointPair();
  });

  it('answers a call-shaped message with bad fields with a ProtocolError reply', async () => {
    const replies: unknown[] = [];
    pair.ta.listen((data) => replies.push(data), () => {});
    pair.tb.deliver([[Op.Call, 7, 'not-an-oid', 'add', 'not-args', 0, 0]]);
    const errorFor7 = (): unknown[] | undefined => (replies.flat() as unknown[][]).find((m) => m[0] === Op.Error && m[1] === 7);
    await until(() => errorFor7() !== undefined);
    const reply = errorFor7();
    expect(reply, 'an Error reply for call 7').to.not.equal(undefined);
    expect((reply![2] as { name: string }).name).to.equal('ProtocolError');
  });

  it('drops and logs anything else, and keeps serving', async () => {
    const svc = await exportTo<Svc>(pair, service());
    pair.tb.deliver('not a batch');
    pair.tb.deliver([42, [999], [Op.Release, -1, 1], [Op.Result], null]);
    expect(pair.warnings.filter((w) => w.includes('[protocol]'))).to.have.length(6);
    expect(await svc.add(20, 22)).to.equal(42);
  });

  it('faults the link on a Ready of another protocol version: the peer is gone, with RPC_E_VERSION_MISMATCH', () => {
    pair.tb.deliver([[Op.Ready, PROTOCOL_VERSION + 1, 1]]);
    const gone = pair.lifecycle[2].find((m) => m[0] === Op.PeerGone);
    expect(gone, 'a PeerGone for endpoint 1').to.not.equal(undefined);
    expect(gone![1]).to.equal(1);
    expect(gone![2]).to.include({ name: 'ProtocolError', code: 'RPC_E_VERSION_MISMATCH' });
    expect((gone![2] as { message: string }).message).to.contain('[protocol-version]');
    expect(pair.warnings.some((w) => w.includes('[protocol-version]')), 'the fault is logged').to.equal(true);
    const seen = pair.lifecycle[2].length;
    pair.tb.deliver([[Op.Ready, PROTOCOL_VERSION, 1]]);
    expect(pair.lifecycle[2].length, 'nothing more is read from a faulted link').to.equal(seen);
  });

  it('fails a pending call whose reply is malformed instead of leaving it hanging', async () => {
    const svc = await exportTo<Svc>(pair, service());
    pair.sentByA.length = 0;
    const p = svc.never().catch((e: unknown) => e);
    await until(() => pair.sentByA.flat().some((m) => m[0] === Op.Call));
    const callId = pair.sentByA.flat().find((m) => m[0] === Op.Call)![1];
    pair.ta.deliver([[Op.Error, callId, { not: 'an error' }]]);
    expect(await p).to.be.instanceOf(ProtocolError);
  });
});
