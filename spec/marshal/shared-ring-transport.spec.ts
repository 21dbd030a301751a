import { expect } from 'chai';
import { MessageChannel, MessagePort, Worker } from 'node:worker_threads';
import { InvalidArgumentError } from '../../lib/errors.js';
import type { Batch } from '../../marshal/protocol.js';
import { MIN_RING_BYTES } from '../../marshal/ring-buffer.js';
import { SharedRingTransport, type SharedRingHandle, type SharedRingOptions, type SharedRingStats } from '../../marshal/shared-ring-transport.js';
import { G_AWAKE, G_CORES, threadGate } from '../../marshal/thread-spinner.js';
import { WireEncoder } from '../../marshal/wire-serializer.js';

const fixture = new URL('./fixtures/ring-echo-worker.js', import.meta.url);
const workers: Worker[] = [];
const transports: SharedRingTransport[] = [];

/** Wait (by polling, not by a deadline on speed) until `ready()` holds; fail after `limitMs`. */
async function until(ready: () => boolean, what: string, limitMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!ready()) {
    if (Date.now() - start > limitMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function startWorker(data: Record<string, unknown>, transferList: (MessagePort | ArrayBuffer)[] = []): Worker {
  const w = new Worker(fixture, { workerData: data, transferList });
  w.on('error', () => {});
  workers.push(w);
  return w;
}

function nextEvent(w: Worker, name: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>): void => {
      if (m.event !== name) return;
      w.off('message', on);
      resolve(m);
    };
    w.on('message', on);
  });
}

/** A pair between this thread and an echo worker, with everything received collected in `got`. */
function echoPair(options: SharedRingOptions = {}, data: Record<string, unknown> = {}, onBatch?: (b: unknown[][]) => void) {
  const { transport, handle } = SharedRingTransport.create(options);
  transports.push(transport);
  const worker = startWorker({ ...data, handle }, [handle.port]);
  const got: unknown[][][] = [];
  let closeCount = 0;
  const closed = new Promise<void>((resolve) => {
    transport.listen((b) => {
      got.push(b as unknown[][]);
      onBatch?.(b as unknown[][]);
    }, () => {
      closeCount++;
      resolve();
    });
  });
  return { transport, worker, got, closed, closeCount: () => closeCount };
}

const ids = (got: unknown[][][]): unknown[] => got.map((b) => b[0]![1]);
const send = (t: SharedRingTransport, ...msg: unknown[]): void => t.send([msg] as unknown as Batch);
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);

/** The worker side's counters, parked flag and whether input is still due there. */
async function workerStats(w: Worker): Promise<{ stats: SharedRingStats; parked: boolean; hasWork: boolean }> {
  const reply = nextEvent(w, 'stats');
  w.postMessage({ cmd: 'stats' });
  return (await reply) as unknown as { stats: SharedRingStats; parked: boolean; hasWork: boolean };
}

afterEach(async () => {
  for (const t of transports.splice(0)) t.close();
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

describe('SharedRingTransport ordering', () => {
  it('delivers thousands of batches in send order across many turns', async () => {
    const { transport, got } = echoPair();
    for (let i = 0; i < 3000; i++) {
      send(transport, 'n', i, [i, `v${i}`]);
      if (i % 50 === 49) await new Promise((r) => setImmediate(r));
    }
    await until(() => got.length === 3000, '3000 echoes');
    expect(ids(got)).to.deep.equal([...Array(3000).keys()]);
    expect(got[2999]).to.deep.equal([['n', 2999, [2999, 'v2999']]]);
  });

  it('round-trips the values a batch carries exactly as structured clone does', async () => {
    const { transport, got } = echoPair();
    const nullProto = Object.assign(Object.create(null) as object, { a: 1 });
    const withProtoKey = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as object;
    const holes = [1, , 3];
    const values = [
      0, -0, 255, 256, -1, 2 ** 31, -(2 ** 31) - 1, 1.5, NaN, Infinity, -Infinity, Number.MAX_VALUE,
      '', 'ascii', 'café', '日本語', '\ud800 lone surrogate', 'x'.repeat(5000), 'é'.repeat(3000) + '€',
      true, false, null, undefined, 0n, 12345678901234567890n, -(2n ** 100n),
      [], [[1, [2, [3]]]], holes, {}, { nested: { deep: [1, { k: 'v' }] } }, nullProto, withProtoKey,
      { name: 'TypeError', message: 'bad', stack: 'TypeError: bad\n    at x', code: undefined, cause: undefined, props: { extra: 1 }, apartment: 3 },
    ];
    send(transport, 'values', 1, values);
    await until(() => got.length === 1, 'the echo');
    const back = got[0]![0]![2] as unknown[];
    expect(back).to.deep.equal(structuredClone(values));
    expect(Object.is(back[1], -0)).to.equal(true);
    expect(Object.is(back[0], 0)).to.equal(true);
    const backHoles = back[values.indexOf(holes)] as unknown[];
    expect(1 in backHoles).to.equal(false);
    const backProto = back[values.indexOf(withProtoKey)] as Record<string, unknown>;
    expect(Object.getPrototypeOf(backProto)).to.equal(Object.prototype);
    expect(Object.keys(backProto)).to.deep.equal(['__proto__', 'x']);
  });

  it('keeps the identity of a value referenced twice (such batches go over the port)', async () => {
    const { transport, got } = echoPair();
    const shared = { s: 1 };
    send(transport, 'dag', 1, [shared, shared]);
    await until(() => got.length === 1, 'the echo');
    const [a, b] = got[0]![0]![2] as object[];
    expect(a).to.equal(b);
  });
});

describe('SharedRingTransport wrap-around', () => {
  it('carries messages of varying size across the end of a small ring many times, in order', async () => {
    const { transport, got } = echoPair({ ringBytes: 1024, maxInlineBytes: 504 });
    const count = 600;
    for (let i = 0; i < count; i++) {
      send(transport, 'w', i, 'y'.repeat((i * 53) % 450));
      if (i % 5 === 4) await new Promise((r) => setImmediate(r));
    }
    await until(() => got.length === count, `${count} echoes`);
    expect(ids(got)).to.deep.equal([...Array(count).keys()]);
    got.forEach((b, i) => expect(b[0]![2]).to.equal('y'.repeat((i * 53) % 450)));
  });
});

describe('SharedRingTransport batching', () => {
  it('drains every batch that is waiting in one go', async () => {
    const signal = new SharedArrayBuffer(4);
    const groups: number[] = [];
    let inGroup = 0;
    // Batches delivered with no microtask checkpoint between them were drained in one go.
    const { transport, got } = echoPair({}, { signal }, () => {
      if (inGroup++ === 0) {
        queueMicrotask(() => {
          groups.push(inGroup);
          inGroup = 0;
        });
      }
    });
    send(transport, 'burst', 200, 100);
    // Block this thread until the worker has written all 200, so they wait in the ring together.
    expect(Atomics.wait(new Int32Array(signal), 0, 0, 10_000)).to.not.equal('timed-out');
    await until(() => got.length === 200, '200 burst items');
    expect(groups).to.deep.equal([200]);
    expect(got.map((b) => b[0]![1])).to.deep.equal([...Array(200).keys()]);
  });
});

describe('SharedRingTransport port fallback', () => {
  it('interleaves ring batches with transferred, uncodable and oversized ones without reordering', async () => {
    const { transport, got } = echoPair({ ringBytes: 64 * 1024 });
    const count = 300;
    const big = 'z'.repeat(40_000);
    for (let i = 0; i < count; i++) {
      if (i % 3 === 0) {
        const buf = new Uint8Array([i & 0xff, 1, 2]).buffer;
        transport.send([['buf', i, buf]] as unknown as Batch, [buf]);
      } else if (i % 7 === 0) send(transport, 'map', i, new Map([[i, 'm']]));
      else if (i % 11 === 0) send(transport, 'big', i, big);
      else send(transport, 'small', i);
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    await until(() => got.length === count, `${count} echoes`);
    expect(ids(got)).to.deep.equal([...Array(count).keys()]);
    for (const [m] of got) {
      const [kind, i, value] = m as [string, number, unknown];
      if (kind === 'buf') expect([...new Uint8Array(value as ArrayBuffer)]).to.deep.equal([i & 0xff, 1, 2]);
      if (kind === 'map') expect(value).to.deep.equal(new Map([[i, 'm']]));
      if (kind === 'big') expect(value).to.equal(big);
    }
  });

  it('moves a MessagePort in order with ring batches around it', async () => {
    const { transport, got } = echoPair();
    const { port1, port2 } = new MessageChannel();
    send(transport, 'before', 0);
    transport.send([['port', 1, port2]] as unknown as Batch, [port2]);
    send(transport, 'after', 2);
    await until(() => got.length === 3, 'three echoes');
    expect(ids(got)).to.deep.equal([0, 1, 2]);
    const back = got[1]![0]![2] as MessagePort;
    expect(back).to.be.instanceOf(MessagePort);
    const echoed = new Promise((r) => back.once('message', r));
    port1.postMessage('through the moved port');
    expect(await echoed).to.equal('through the moved port');
    port1.close();
    back.close();
  });

  it('throws DataCloneError for an uncloneable batch, sends none of it, and keeps order after', async () => {
    const { transport, got } = echoPair();
    send(transport, 'ok', 0);
    expect(() => send(transport, 'fn', 1, () => 1)).to.throw().with.property('name', 'DataCloneError');
    send(transport, 'ok', 2);
    await until(() => got.length === 2, 'two echoes');
    expect(ids(got)).to.deep.equal([0, 2]);
  });
});

describe('SharedRingTransport parking and waking', () => {
  it('parks both idle consumers and wakes the peer on a later send', async () => {
    const { transport, got } = echoPair();
    send(transport, 'first', 0);
    await until(() => got.length === 1, 'the first echo');
    await until(() => transport.parkedNow && transport.peerParked, 'both sides parked');
    send(transport, 'later', 1);
    await until(() => got.length === 2, 'the echo of a send to a parked peer');
    expect(ids(got)).to.deep.equal([0, 1]);
    await until(() => transport.parkedNow && transport.peerParked, 'both sides parked again');
  });

  it('keeps its event loop running while parked: timers fire', async () => {
    const { transport, got } = echoPair();
    send(transport, 'first', 0);
    await until(() => got.length === 1 && transport.parkedNow, 'parked after the echo');
    const fired = await new Promise((r) => setTimeout(() => r(true), 1));
    expect(fired).to.equal(true);
  });
});

describe('SharedRingTransport forced parking (spinMicros 0)', () => {
  it('loses no wake-up over thousands of round trips and pipelined bursts: every item once, in order', async function () {
    // A lost wake-up hangs rather than fails, so the limit is generous; nothing here measures speed.
    this.timeout(120_000);
    const rounds = 5_000;
    const bursts = 20;
    const burst = 250;
    let pingPong = true;
    let waiter: { count: number; resolve: () => void } | undefined;
    const pair = echoPair({ spinMicros: 0 }, {}, (b) => {
      const i = b[0]![1] as number;
      // Send the next round trip from inside the receiver: this side parks right after, racing the echo.
      if (pingPong && i < rounds - 1) send(pair.transport, 'n', i + 1);
      if (waiter && pair.got.length >= waiter.count) waiter.resolve();
    });
    const arrived = (count: number): Promise<void> => new Promise((resolve) => {
      if (pair.got.length >= count) resolve();
      else waiter = { count, resolve };
    });
    send(pair.transport, 'n', 0);
    await arrived(rounds);
    pingPong = false;
    for (let k = 0; k < bursts; k++) {
      const base = rounds + k * burst;
      for (let i = base; i < base + burst; i++) send(pair.transport, 'n', i);
      await arrived(base + burst);
    }
    // An item delivered twice would show up before this last echo, which comes in order.
    const total = rounds + bursts * burst;
    send(pair.transport, 'n', total);
    await arrived(total + 1);
    expect(ids(pair.got)).to.deep.equal(range(0, total + 1));
    expect(pair.transport.hasWork(), 'input left on this side').to.equal(false);
    expect(pair.transport.stats).to.include({ spins: 0, queuedPortItems: 0 });
    expect(pair.transport.stats.parks).to.be.greaterThan(0);
    const far = await workerStats(pair.worker);
    expect(far.hasWork, 'input left on the worker side').to.equal(false);
    expect(far.stats).to.include({ spins: 0, queuedPortItems: 0 });
    expect(far.stats.parks).to.be.greaterThan(0);
  });
});

describe('SharedRingTransport spin back-off', () => {
  it('parks instead of spinning while more threads are awake than cores', async () => {
    const gate = threadGate();
    const cores = Atomics.load(gate, G_CORES);
    const { transport, worker, got } = echoPair({ spinMicros: 200 });
    // Control, with room for every thread (whatever the machine): both consumers do spin.
    Atomics.store(gate, G_CORES, 1 << 20);
    try {
      send(transport, 'n', 0);
      await until(() => got.length === 1, 'the first echo');
    } finally {
      Atomics.store(gate, G_CORES, cores);
    }
    expect(transport.stats.spins, 'spins on this side with room').to.be.greaterThan(0);
    expect((await workerStats(worker)).stats.spins, 'spins on the worker side with room').to.be.greaterThan(0);
    // Now report more awake threads than cores, as if other busy apartments were running.
    const extra = cores + 4;
    Atomics.add(gate, G_AWAKE, extra);
    try {
      await until(() => transport.parkedNow && transport.peerParked, 'both sides parked');
      const near = transport.stats;
      const far = (await workerStats(worker)).stats;
      for (let i = 1; i <= 100; i++) {
        send(transport, 'n', i);
        await until(() => got.length === i + 1, `echo ${i}`);
      }
      for (let i = 101; i <= 300; i++) send(transport, 'n', i);
      await until(() => got.length === 301, 'a burst of 200 echoes');
      const nearAfter = transport.stats;
      const farAfter = (await workerStats(worker)).stats;
      expect(nearAfter.spins - near.spins, 'spins on this side').to.equal(0);
      expect(farAfter.spins - far.spins, 'spins on the worker side').to.equal(0);
      expect(nearAfter.parks - near.parks, 'parks on this side').to.be.greaterThan(0);
      expect(farAfter.parks - far.parks, 'parks on the worker side').to.be.greaterThan(0);
    } finally {
      Atomics.sub(gate, G_AWAKE, extra);
    }
    expect(ids(got)).to.deep.equal(range(0, 301));
  });
});

describe('SharedRingTransport full ring', () => {
  const encoder = new WireEncoder();
  /** A one-message batch whose ring record (8-byte header, payload padded to 8) takes exactly 64 bytes. */
  function record64(kind: string, i: number): Batch {
    for (let pad = 0; pad < 64; pad++) {
      const batch = [[kind, i, 'p'.repeat(pad)]] as unknown as Batch;
      if (8 + ((encoder.encode(batch, 1024) + 7) & ~7) === 64) return batch;
    }
    throw new Error(`no padding gives ${kind} ${i} a 64-byte record`);
  }

  it('sends over the port when the ring is full, with no room left even for the marker, without reordering', async () => {
    const signal = new SharedArrayBuffer(12);
    const words = new Int32Array(signal);
    const { transport, worker, got } = echoPair({ ringBytes: MIN_RING_BYTES }, { signal });
    transport.send(record64('block', 0));
    // Block this thread until the worker holds inside its receiver, having drained the ring.
    expect(Atomics.wait(words, 1, 0, 10_000)).to.not.equal('timed-out');
    try {
      for (let i = 1; i <= MIN_RING_BYTES / 64; i++) transport.send(record64('fill', i));
      expect(transport.stats.portSends, 'sixteen 64-byte records fit a 1 KiB ring').to.equal(0);
      for (let i = 17; i <= 24; i++) {
        if (i !== 20) transport.send(record64('over', i));
        else {
          const buf = new Uint8Array([i]).buffer;
          transport.send([['buf', i, buf]] as unknown as Batch, [buf]);
        }
      }
      expect(transport.stats, 'all eight went over the port, none with a marker').to.include({ portSends: 8, unmarkedPortSends: 8 });
    } finally {
      Atomics.store(words, 2, 1);
      Atomics.notify(words, 2);
    }
    // More, of mixed sizes (some past the inline limit), while the worker catches up.
    for (let i = 25; i < 400; i++) {
      send(transport, 'after', i, 'q'.repeat((i * 29) % 300));
      if (i % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    await until(() => got.length === 399, '399 echoes');
    expect(ids(got)).to.deep.equal(range(1, 400));
    expect([...new Uint8Array(got[19]![0]![2] as ArrayBuffer)]).to.deep.equal([20]);
    got.slice(24).forEach((b, k) => expect(b[0]![2]).to.equal('q'.repeat(((k + 25) * 29) % 300)));
    const far = await workerStats(worker);
    expect(far.stats.queuedPortItems).to.equal(0);
    expect(transport.stats.queuedPortItems).to.equal(0);
  });

  it('keeps order when this side is the consumer that falls behind', async () => {
    const signal = new SharedArrayBuffer(12);
    const { transport, worker, got } = echoPair({ ringBytes: MIN_RING_BYTES }, { signal });
    send(transport, 'burst', 300, 200);
    // Block this thread until the worker has sent all 300 into a ring that holds a few of them.
    expect(Atomics.wait(new Int32Array(signal), 0, 0, 10_000)).to.not.equal('timed-out');
    await until(() => got.length === 300, '300 burst items');
    expect(ids(got)).to.deep.equal(range(0, 300));
    got.forEach((b, i) => expect(b[0]![2]).to.equal('x'.repeat((i * 37) % 200)));
    expect((await workerStats(worker)).stats.portSends, 'items the full ring sent over the port').to.be.greaterThan(0);
  });
});

describe('SharedRingTransport 32-bit wrap-around', () => {
  for (const start of [2 ** 31 - 512, -512]) {
    it(`carries items in order across the wrap of positions and sequence numbers (counters from ${start})`, async () => {
      const { transport, got, closed, closeCount } = echoPair({ ringBytes: MIN_RING_BYTES, startCounters: start });
      const count = 700;
      for (let i = 0; i < count; i++) {
        if (i % 9 === 0) {
          const buf = new Uint8Array([i & 0xff]).buffer;
          transport.send([['buf', i, buf]] as unknown as Batch, [buf]);
        } else send(transport, 'w', i, 'y'.repeat((i * 53) % 300));
        if (i % 5 === 4) await new Promise((r) => setImmediate(r));
      }
      await until(() => got.length === count, `${count} echoes`);
      expect(ids(got)).to.deep.equal(range(0, count));
      got.forEach((b, i) => {
        if (i % 9 === 0) expect([...new Uint8Array(b[0]![2] as ArrayBuffer)]).to.deep.equal([i & 0xff]);
        else expect(b[0]![2]).to.equal('y'.repeat((i * 53) % 300));
      });
      // The worker's final sequence number lies past the wrap too: it still closes after its last item.
      send(transport, 'close');
      await closed;
      expect(closeCount()).to.equal(1);
      expect(got).to.have.length(count);
    });
  }
});

describe('SharedRingTransport peer crash while parked', () => {
  it('tells this side when the worker throws while both are parked', async () => {
    const { transport, worker, got, closed, closeCount } = echoPair();
    send(transport, 'x', 0);
    await until(() => got.length === 1 && transport.parkedNow && transport.peerParked, 'both parked');
    const crashing = nextEvent(worker, 'crashing');
    worker.postMessage({ cmd: 'throw' });
    expect(await crashing, 'the worker was still parked when it threw').to.deep.equal({ event: 'crashing', parked: true });
    await closed;
    expect(closeCount()).to.equal(1);
    expect(() => send(transport, 'after', 1)).to.not.throw();
  });

  it('tells the worker when this side closes while the worker is parked', async () => {
    const { transport, worker, got, closed } = echoPair();
    send(transport, 'x', 0);
    await until(() => got.length === 1 && transport.peerParked, 'the worker parked');
    expect((await workerStats(worker)).parked).to.equal(true);
    const workerClosed = nextEvent(worker, 'closed');
    const exited = new Promise((r) => worker.once('exit', r));
    transport.close();
    expect(await workerClosed).to.deep.equal({ event: 'closed' });
    await closed;
    expect(await exited).to.equal(0);
  });

  it('tells this side when the worker is terminated while both are parked', async () => {
    const { transport, worker, got, closed, closeCount } = echoPair();
    send(transport, 'x', 0);
    await until(() => got.length === 1 && transport.parkedNow && transport.peerParked, 'both parked');
    await worker.terminate();
    await closed;
    expect(closeCount()).to.equal(1);
  });

  for (const [victim, death] of [['creator', 'terminate'], ['attacher', 'terminate'], ['creator', 'throw'], ['attacher', 'throw']] as const) {
    it(`tells the ${victim === 'creator' ? 'attaching' : 'creating'} worker when the ${victim} ${death === 'throw' ? 'throws' : 'is terminated'} while both are parked`, async () => {
      const creator = startWorker({});
      const handleEvent = nextEvent(creator, 'handle');
      creator.postMessage({ cmd: 'create' });
      const { handle } = (await handleEvent) as unknown as { handle: SharedRingHandle };
      const attacher = startWorker({});
      const attached = nextEvent(attacher, 'attached');
      attacher.postMessage({ cmd: 'attach', handle }, [handle.port]);
      await attached;
      const pong = nextEvent(creator, 'pong');
      creator.postMessage({ cmd: 'ping' });
      await pong;
      let parked = false;
      while (!parked) {
        const state = nextEvent(creator, 'state');
        creator.postMessage({ cmd: 'state' });
        const s = await state;
        parked = s.parked === true && s.peerParked === true;
      }
      const [dead, survivor] = victim === 'creator' ? [creator, attacher] : [attacher, creator];
      const closed = nextEvent(survivor, 'closed');
      if (death === 'terminate') await dead.terminate();
      else {
        const crashing = nextEvent(dead, 'crashing');
        dead.postMessage({ cmd: 'throw' });
        expect(await crashing, `the ${victim} was still parked when it threw`).to.deep.equal({ event: 'crashing', parked: true });
      }
      expect(await closed).to.deep.equal({ event: 'closed' });
    });
  }
});

describe('SharedRingTransport close', () => {
  it('fires the close listener on both sides and ignores later sends', async () => {
    const { transport, worker, closed } = echoPair();
    const workerClosed = nextEvent(worker, 'closed');
    transport.close();
    await workerClosed;
    await closed;
    expect(() => send(transport, 'late', 1)).to.not.throw();
  });

  it('delivers what the peer sent before it closed, then fires the close listener once', async () => {
    const { transport, got, closed, closeCount } = echoPair();
    send(transport, 'x', 0);
    send(transport, 'x', 1);
    send(transport, 'close');
    await closed;
    expect(ids(got)).to.deep.equal([0, 1]);
    await new Promise((r) => setTimeout(r, 10));
    expect(closeCount()).to.equal(1);
  });
});

describe('SharedRingTransport keep-alive', () => {
  it('lets an unref\'d idle worker exit on its own while this side stays open', async () => {
    const { worker } = echoPair({}, { keepAlive: false });
    const [code] = (await new Promise((r) => worker.once('exit', (...a) => r(a)))) as [number];
    expect(code).to.equal(0);
  });

  it('keeps a listening worker alive while parked, and lets it exit once the pair is closed', async () => {
    const { transport, worker, got } = echoPair();
    send(transport, 'x', 0);
    await until(() => got.length === 1 && transport.peerParked, 'worker parked');
    send(transport, 'x', 1);
    await until(() => got.length === 2, 'an echo from the parked worker');
    const exited = new Promise((r) => worker.once('exit', r));
    transport.close();
    expect(await exited).to.equal(0);
  });
});

describe('SharedRingTransport arguments', () => {
  it('rejects a ring size that is not a power of two', () => {
    expect(() => SharedRingTransport.create({ ringBytes: 1000 })).to.throw(InvalidArgumentError, /\[shared-ring\] ringBytes/);
  });

  it('rejects an inline limit larger than half the ring', () => {
    expect(() => SharedRingTransport.create({ ringBytes: 1024, maxInlineBytes: 1024 })).to.throw(InvalidArgumentError, /maxInlineBytes/);
  });

  it('rejects a counter start that is not an int32 multiple of 8', () => {
    expect(() => SharedRingTransport.create({ startCounters: 4 })).to.throw(InvalidArgumentError, /startCounters/);
    expect(() => SharedRingTransport.create({ startCounters: 2 ** 31 })).to.throw(InvalidArgumentError, /startCounters/);
  });

  it('rejects a negative spin time', () => {
    expect(() => SharedRingTransport.create({ spinMicros: -1 })).to.throw(InvalidArgumentError, /spinMicros/);
  });

  it('rejects a handle that did not come from create()', () => {
    expect(() => SharedRingTransport.attach({} as SharedRingHandle)).to.throw(InvalidArgumentError, /handle\.sab/);
    const { port1 } = new MessageChannel();
    const bogus = { sab: new SharedArrayBuffer(4096), port: port1, gate: new SharedArrayBuffer(8), maxInlineBytes: 0, spinMicros: 0 };
    expect(() => SharedRingTransport.attach(bogus)).to.throw(InvalidArgumentError, /never initialised/);
    port1.close();
  });
});
