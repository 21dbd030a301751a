import { expect } from 'chai';
import { MessageChannel, MessagePort } from 'node:worker_threads';
import { InvalidArgumentError } from '../../../marshal/errors.js';
import type { Batch } from '../../../marshal/protocol.js';
import { MIN_RING_BYTES } from '../../../marshal/transports/ring-buffer.js';
import { SharedRingTransport, type SharedRingHandle } from '../../../marshal/transports/shared-ring-transport.js';
import { WireEncoder } from '../../../marshal/transports/wire-serializer.js';
import { echoPair, ids, nextEvent, range, send, until, workerStats } from '../fixtures/ring-echo-pair.js';

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

  it('sends a batch over the port once it outgrows this pair\'s inline limit, though a pair with a larger limit on this thread sent one as large inline', async () => {
    // One encoder serves every pair on a thread, and its buffer keeps the size the largest batch gave it.
    const big = 'q'.repeat(40_000);
    const encoder = new WireEncoder();
    expect(encoder.encode([['big', 0, big]], 64 * 1024)).to.be.greaterThan(40_000);
    expect(encoder.encode([['big', 0, big]], 16 * 1024), 'over the smaller limit').to.equal(-1);

    const roomy = echoPair();
    send(roomy.transport, 'big', 0, big);
    await until(() => roomy.got.length === 1, 'the roomy pair\'s echo');
    expect(roomy.transport.stats.portSends, 'under 64 KiB fits the default ring inline').to.equal(0);
    const tight = echoPair({ ringBytes: 64 * 1024 });
    send(tight.transport, 'big', 1, big);
    send(tight.transport, 'small', 2);
    await until(() => tight.got.length === 2, 'the tight pair\'s echoes');
    expect(tight.transport.stats.portSends, 'over its 16 KiB inline limit').to.equal(1);
    expect(ids(tight.got)).to.deep.equal([1, 2]);
    expect(tight.got[0]![0]![2]).to.equal(big);
  });

  it('refuses a long array for the ring once its first items project it past the inline limit, without reading the rest', () => {
    const encoder = new WireEncoder();
    let read = false;
    const items: object[] = Array.from({ length: 2_000 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'] }));
    Object.defineProperty(items[100], 'late', { enumerable: true, get: () => (read = true) });
    expect(encoder.encode([['big', 0, items]], 16 * 1024), 'goes over the port').to.equal(-1);
    expect(read, 'an item past the projection was never read').to.equal(false);
    const fits = Array.from({ length: 1_000 }, (_, i) => i);
    expect(encoder.encode([['fits', 0, fits]], 16 * 1024), 'a long array that fits is written').to.be.greaterThan(1_000);
  });

  it('refuses a value nesting deeper than the ring carries without reading on, then writes the next value', () => {
    const encoder = new WireEncoder();
    const nest = (levels: number): object => {
      let o: object = { leaf: 1 };
      for (let i = 0; i < levels; i++) o = { o, i, s: 'abc' };
      return o;
    };
    let read = false;
    const after = Object.defineProperty({}, 'late', { enumerable: true, get: () => (read = true) });
    expect(encoder.encode([['deep', 0, { deep: nest(200), after }]], 64 * 1024), 'goes over the port').to.equal(-1);
    expect(read, 'nothing after the too-deep branch was read').to.equal(false);
    expect(encoder.encode([['shallower', 0, nest(50)]], 64 * 1024), 'a value within the depth is written').to.be.greaterThan(1_000);
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
