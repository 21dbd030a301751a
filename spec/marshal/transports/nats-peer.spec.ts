import { serialize } from 'node:v8';
import { expect } from 'chai';
import type { Batch } from '../../../marshal/protocol.js';
import { IpcTransport } from '../../../marshal/transports/ipc-transport.js';
import { decodeFrame, MAX_NATS_MESSAGE_BYTES, NatsPeer, type NatsFrame } from '../../../marshal/transports/nats-peer.js';
import { emptyObjectsValue } from '../../fixtures/heavy-frames.js';
import { thrown } from '../../fixtures/thrown.js';

// Two nodes, 'a' and 'b', each with its side of one session (id 'ea.1', opened by 'a'), wired
// over memory instead of NATS: what one publishes is copied (as NATS would), decoded with
// decodeFrame and handed to the other's session in a later microtask, as a node's router does.

/** One node's side of a wired pair: its session, what it published, and what its session told. */
interface Side {
  readonly peer: NatsPeer;
  /** Every frame this side's session published, dropped ones included. */
  readonly published: Uint8Array[];
  /** The messages the session emitted, in order. */
  readonly messages: unknown[];
  /** 'gap: <description>' and 'disconnect', in the order the session emitted them. */
  readonly events: string[];
}

interface PairOptions {
  /** The largest NATS message the wire takes (default 1 MiB, as a NATS server's default). */
  maxPayload?: number;
  /** Frames to lose on the way: `index` counts the frames `from` published, from 0. */
  drop?: (from: 'a' | 'b', index: number) => boolean;
}

/** The session's id: the opening node's epoch and a count. */
const SESSION = 'ea.1';

/** Wire two sessions to each other over memory. */
function wiredPair({ maxPayload = 1_048_576, drop }: PairOptions = {}): { a: Side; b: Side } {
  const sides: Partial<Record<'a' | 'b', Side>> = {};
  const side = (name: 'a' | 'b', other: 'a' | 'b'): Side => {
    const published: Uint8Array[] = [];
    const wire = {
      name,
      maxPayload,
      publish(bytes: Uint8Array): void {
        const index = published.push(bytes) - 1;
        if (drop?.(name, index)) return;
        const copy = new Uint8Array(bytes);
        queueMicrotask(() => deliver(sides[other]!, copy));
      },
    };
    const peer = new NatsPeer(wire, other, SESSION);
    const s: Side = { peer, published, messages: [], events: [] };
    peer.on('message', (m) => s.messages.push(m));
    peer.on('gap', (d) => s.events.push(`gap: ${d}`));
    peer.on('disconnect', () => s.events.push('disconnect'));
    return s;
  };
  sides.a = side('a', 'b');
  sides.b = side('b', 'a');
  return { a: sides.a, b: sides.b };
}

/** Hand `bytes` to `to`'s session as its node's router would: decoded, and only when they are its session's frames. */
function deliver(to: Side, bytes: Uint8Array): void {
  const frame = decodeFrame(bytes);
  if (typeof frame === 'string') throw new Error(`the wire carried something that is not a frame: ${frame}`);
  if (frame.from !== to.peer.node || frame.session !== to.peer.id) throw new Error(`a frame from ${frame.from}/${frame.session} reached the session with ${to.peer.node}/${to.peer.id}`);
  to.peer.receive(frame);
}

/** Let every frame in flight arrive (the wire delivers in microtasks, which all run before this resolves). */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The frames `side` published, decoded. */
function framesOf(side: Side): NatsFrame[] {
  return side.published.map((bytes) => {
    const frame = decodeFrame(bytes);
    if (typeof frame === 'string') throw new Error(frame);
    return frame;
  });
}


/** The last events of a session that ended for `tag`: the description, then 'disconnect'. */
function expectEndedWith(side: Side, tag: string): void {
  expect(side.events, side.events.join(' | ')).to.have.length(2);
  expect(side.events[0]!.startsWith(`gap: ${tag}`), side.events[0]).to.equal(true);
  expect(side.events[1]).to.equal('disconnect');
  expect(side.peer.connected).to.equal(false);
}

/** A byte pattern that shows a misplaced or missing part. */
function pattern(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
  return bytes;
}

describe('marshal/transports/nats-peer: messages arrive in order, whole, with structured-clone fidelity', () => {
  it('delivers [tag, link, payload] in the order sent, both ways, with Maps, Dates, typed arrays and errors intact', async () => {
    const { a, b } = wiredPair();
    const error = new RangeError('out of range', { cause: 'why' });
    const payload = {
      map: new Map<unknown, unknown>([['k', 1], [2, new Set(['s'])]]),
      at: new Date(1_700_000_000_000),
      bytes: new Uint8Array([1, 2, 3]),
      floats: new Float64Array([0.5, -2]),
      big: 12n,
      error,
    };
    expect(a.peer.send(['t:first', 3, payload])).to.equal(true);
    a.peer.send(['t:second', 4, 'two']);
    a.peer.send(['t:third', 0, null]);
    b.peer.send(['t:back', 9, [undefined, -0]]);
    await settled();

    expect(b.messages.map((m) => (m as unknown[]).slice(0, 2))).to.deep.equal([['t:first', 3], ['t:second', 4], ['t:third', 0]]);
    expect((b.messages[1] as unknown[])[2]).to.equal('two');
    const got = (b.messages[0] as [string, number, typeof payload])[2];
    expect(got.map).to.be.instanceOf(Map);
    expect(got.map.get('k')).to.equal(1);
    expect(got.map.get(2)).to.deep.equal(new Set(['s']));
    expect(got.at).to.be.instanceOf(Date);
    expect(got.at.getTime()).to.equal(1_700_000_000_000);
    expect(got.bytes).to.be.instanceOf(Uint8Array);
    expect([...got.bytes]).to.deep.equal([1, 2, 3]);
    expect(got.floats).to.be.instanceOf(Float64Array);
    expect([...got.floats]).to.deep.equal([0.5, -2]);
    expect(got.big).to.equal(12n);
    expect(got.error).to.be.instanceOf(RangeError);
    expect(got.error.message).to.equal('out of range');
    expect(got.error.cause).to.equal('why');
    expect(a.messages).to.have.length(1);
    const back = (a.messages[0] as [string, number, unknown[]])[2];
    expect(back).to.have.length(2);
    expect(back[0]).to.equal(undefined);
    expect(Object.is(back[1], -0)).to.equal(true);
    expect([...a.events, ...b.events]).to.deep.equal([]);
  });

  it('numbers the frames of a session 0, 1, 2, … and signs them with the sender\'s name and the session', async () => {
    const { a } = wiredPair();
    for (let i = 0; i < 4; i++) a.peer.send(['t', i, i]);
    await settled();
    expect(framesOf(a).map((f) => [f.from, f.session, f.seq, f.link])).to.deep.equal([['a', SESSION, 0, 0], ['a', SESSION, 1, 1], ['a', SESSION, 2, 2], ['a', SESSION, 3, 3]]);
  });
});

describe('marshal/transports/nats-peer: a message larger than one NATS message goes in parts and arrives whole', () => {
  it('splits a message past maxPayload into frames no larger than maxPayload, which make the message again on the other side', async () => {
    const maxPayload = 4_096;
    const { a, b } = wiredPair({ maxPayload });
    const big = pattern(50_000);
    a.peer.send(['t:before', 1, 'small']);
    a.peer.send(['t:big', 2, { big, at: new Date(7), map: new Map([['x', big.subarray(10, 20)]]) }]);
    a.peer.send(['t:after', 3, 'small']);
    await settled();

    expect(a.published.length, 'the big message went in several frames').to.be.greaterThan(3);
    for (const bytes of a.published) expect(bytes.byteLength).to.be.at.most(maxPayload);
    expect(b.messages.map((m) => (m as unknown[])[0])).to.deep.equal(['t:before', 't:big', 't:after']);
    const got = (b.messages[1] as [string, number, { big: Uint8Array; at: Date; map: Map<string, Uint8Array> }]);
    expect(got[1]).to.equal(2);
    expect(got[2].big).to.be.instanceOf(Uint8Array);
    expect(Buffer.compare(got[2].big, big)).to.equal(0);
    expect(got[2].at.getTime()).to.equal(7);
    expect([...got[2].map.get('x')!]).to.deep.equal([...big.subarray(10, 20)]);
    expect(b.events).to.deep.equal([]);
  });

  it('carries a message of exactly MAX_NATS_MESSAGE_BYTES serialized', async () => {
    const { a, b } = wiredPair({ maxPayload: 1_048_576 });
    const overhead = serialize(['t', 1, new Uint8Array(MAX_NATS_MESSAGE_BYTES)]).byteLength - MAX_NATS_MESSAGE_BYTES;
    const payload = new Uint8Array(MAX_NATS_MESSAGE_BYTES - overhead);
    payload[0] = 1;
    payload[payload.length - 1] = 2;
    expect(serialize(['t', 1, payload]).byteLength).to.equal(MAX_NATS_MESSAGE_BYTES);
    expect(a.peer.send(['t', 1, payload])).to.equal(true);
    await settled();
    expect(b.messages).to.have.length(1);
    const got = (b.messages[0] as [string, number, Uint8Array])[2];
    expect(got.byteLength).to.equal(payload.byteLength);
    expect([got[0], got[1], got[got.length - 1]]).to.deep.equal([1, 0, 2]);
    expect(b.events).to.deep.equal([]);
  });
});

describe('marshal/transports/nats-peer: a lost frame ends the session instead of losing a message silently', () => {
  it("emits 'gap' naming the missing frames, then 'disconnect', and delivers nothing after the gap", async () => {
    const { a, b } = wiredPair({ drop: (from, index) => from === 'a' && index === 1 });
    for (let i = 0; i < 4; i++) a.peer.send(['t', i, `m${i}`]);
    await settled();
    expect(b.messages).to.deep.equal([['t', 0, 'm0']]);
    expectEndedWith(b, '[link-gap]');
    expect(b.events[0]).to.contain("frames 1–1 from node 'a' were lost");
    a.peer.send(['t', 9, 'later']);
    await settled();
    expect(b.messages).to.have.length(1);
    expect(b.events).to.have.length(2);
  });

  it('ends the session when a part of a parted message is lost', async () => {
    const { a, b } = wiredPair({ maxPayload: 4_096, drop: (from, index) => from === 'a' && index === 2 });
    a.peer.send(['t:big', 1, pattern(20_000)]);
    a.peer.send(['t:after', 2, 'small']);
    await settled();
    expect(b.messages).to.deep.equal([]);
    expectEndedWith(b, '[link-gap]');
  });
});

describe('marshal/transports/nats-peer: a frame lost last of all shows in the count a heartbeat carries', () => {
  it('ends the session at the next heartbeat when frames the other side had sent by the last one never came', async () => {
    const { a, b } = wiredPair({ drop: (from, index) => from === 'a' && index === 2 });
    for (let i = 0; i < 3; i++) a.peer.send(['t', i, `m${i}`]);
    await settled();
    expect(b.messages, 'no later frame shows the gap').to.have.length(2);
    expect(b.peer.connected).to.equal(true);
    b.peer.confirm(a.peer.sent);
    expect(b.peer.connected, 'a heartbeat is allowed for frames still on their way').to.equal(true);
    b.peer.confirm(a.peer.sent);
    expectEndedWith(b, '[link-gap]');
    expect(b.events[0]).to.contain("node 'a' had sent 3 frames a heartbeat ago and only 2 came");
  });

  it('keeps a session whose frames all came, however many heartbeats pass', async () => {
    const { a, b } = wiredPair();
    for (let round = 0; round < 5; round++) {
      a.peer.send(['t', round, `m${round}`]);
      b.peer.confirm(a.peer.sent);
      await settled();
    }
    b.peer.confirm(a.peer.sent);
    expect(b.messages).to.have.length(5);
    expect(b.peer.connected).to.equal(true);
    expect(b.events).to.deep.equal([]);
  });
});

describe('marshal/transports/nats-peer: a session keeps its frame counts where another thread reads them', () => {
  it('stores frames sent and received in shared memory as they go', async () => {
    const counters = new BigInt64Array(new SharedArrayBuffer(16));
    const sent: Uint8Array[] = [];
    const peer = new NatsPeer({ name: 'b', maxPayload: 1_048_576, counters, publish: (bytes) => void sent.push(bytes) }, 'a', SESSION);
    peer.send(['t', 1, 'one']);
    peer.send(['t', 1, 'two']);
    expect(Atomics.load(counters, 0), 'frames sent').to.equal(2n);
    const { a } = wiredPair();
    a.peer.send(['t', 1, 'x']);
    peer.receive(framesOf(a)[0]!);
    expect(Atomics.load(counters, 1), 'frames received').to.equal(1n);
    expect(sent).to.have.length(2);
  });
});

describe('marshal/transports/nats-peer: a frame that arrives again is ignored', () => {
  it('drops a frame whose sequence number is below the next one expected, and goes on', async () => {
    const { a, b } = wiredPair({ drop: (from) => from === 'a' });
    a.peer.send(['t', 0, 'first']);
    a.peer.send(['t', 1, 'second']);
    const [first, second] = a.published.map((bytes) => new Uint8Array(bytes));
    deliver(b, first!);
    deliver(b, first!);
    deliver(b, second!);
    deliver(b, first!);
    expect(b.messages).to.deep.equal([['t', 0, 'first'], ['t', 1, 'second']]);
    expect(b.events).to.deep.equal([]);
    expect(b.peer.connected).to.equal(true);
  });
});

describe('marshal/transports/nats-peer: parts that do not follow each other end the session as malformed', () => {
  /** The frames of one message sent in three or more parts (recorded, not delivered), and a fresh receiver. */
  function partsOf(): { parts: NatsFrame[]; b: Side } {
    const { a, b } = wiredPair({ maxPayload: 4_096, drop: () => true });
    a.peer.send(['t:big', 1, pattern(12_000)]);
    const parts = framesOf(a);
    expect(parts.length).to.be.at.least(3);
    return { parts, b };
  }

  it('refuses a part out of order', () => {
    const { parts, b } = partsOf();
    b.peer.receive(parts[0]!);
    b.peer.receive({ ...parts[2]!, seq: 1 });
    expect(b.messages).to.deep.equal([]);
    expectEndedWith(b, '[malformed-frame]');
  });

  it('refuses a first part that is not the first', () => {
    const { parts, b } = partsOf();
    b.peer.receive({ ...parts[1]!, seq: 0 });
    expect(b.messages).to.deep.equal([]);
    expectEndedWith(b, '[malformed-frame]');
  });

  it('refuses a part without its bytes', () => {
    const { parts, b } = partsOf();
    const count = (parts[0]!.payload as unknown[])[0];
    b.peer.receive({ ...parts[0]!, payload: [count, 'not bytes'] });
    expect(b.messages).to.deep.equal([]);
    expectEndedWith(b, '[malformed-frame]');
  });

  it('refuses a part whose payload is not [count, bytes]', () => {
    const { parts, b } = partsOf();
    b.peer.receive({ ...parts[0]!, payload: null });
    expectEndedWith(b, '[malformed-frame]');
  });

  it('refuses an ordinary message in the middle of a parted one', () => {
    const { parts, b } = partsOf();
    b.peer.receive(parts[0]!);
    b.peer.receive({ from: 'a', session: SESSION, seq: 1, tag: 't:small', link: 2, payload: 'in between' });
    expect(b.messages).to.deep.equal([]);
    expectEndedWith(b, '[malformed-frame]');
  });

  it('refuses parts whose bytes do not make a message', () => {
    const { parts, b } = partsOf();
    const [count, bytes] = parts[0]!.payload as [number, Uint8Array];
    const garbled = new Uint8Array(bytes).fill(0xff, 0, 8);
    b.peer.receive({ ...parts[0]!, payload: [count, garbled] });
    for (const part of parts.slice(1)) b.peer.receive(part);
    expect(b.messages).to.deep.equal([]);
    expectEndedWith(b, '[malformed-frame]');
  });

  it('refuses a part whose count differs from the first part\'s', () => {
    const { parts, b } = partsOf();
    const [count, bytes] = parts[1]!.payload as [number, Uint8Array];
    b.peer.receive(parts[0]!);
    b.peer.receive({ ...parts[1]!, payload: [count + 1, bytes] });
    expect(b.messages).to.deep.equal([]);
    expectEndedWith(b, '[malformed-frame]');
  });

  it('refuses empty parts, and parts too small to be any sender\'s, however many come', () => {
    // Parts of no bytes never added to the size a peer may send, so a receiver held them without end.
    for (const bytes of [new Uint8Array(0), new Uint8Array(100)]) {
      const { b } = partsOf();
      b.peer.receive({ from: 'a', session: SESSION, seq: 0, tag: 'apartment:part', link: 0, payload: [3, bytes] });
      expect(b.messages).to.deep.equal([]);
      expectEndedWith(b, '[malformed-frame]');
    }
    const { b } = partsOf();
    b.peer.receive({ from: 'a', session: SESSION, seq: 0, tag: 'apartment:part', link: 0, payload: [1e9, new Uint8Array(4_096)] });
    expectEndedWith(b, '[malformed-frame]');
  });

  it('keeps a copy of each part, not the buffer it arrived in', () => {
    const { parts, b } = partsOf();
    const [count, bytes] = parts[0]!.payload as [number, Uint8Array];
    const arrivedIn = new Uint8Array(bytes.byteLength + 60_000);
    arrivedIn.set(bytes, 60_000);
    b.peer.receive({ ...parts[0]!, payload: [count, arrivedIn.subarray(60_000)] });
    // Overwriting the buffer the part arrived in changes nothing of the message being put together.
    arrivedIn.fill(0);
    for (const part of parts.slice(1)) b.peer.receive(part);
    expect(b.events).to.deep.equal([]);
    expect(Buffer.compare((b.messages[0] as [string, number, Uint8Array])[2], pattern(12_000))).to.equal(0);
  });

  it('refuses parts that add up to more than MAX_NATS_MESSAGE_BYTES', () => {
    const { parts, b } = partsOf();
    b.peer.receive({ ...parts[0]!, payload: [2, new Uint8Array(MAX_NATS_MESSAGE_BYTES + 1)] });
    expect(b.messages).to.deep.equal([]);
    expectEndedWith(b, '[malformed-frame]');
  });
});

describe('marshal/transports/nats-peer: what cannot be sent is refused at send, and nothing of it is published', () => {
  it('throws DataCloneError [value-too-large] for a message over MAX_NATS_MESSAGE_BYTES serialized, and the session goes on', async () => {
    const { a, b } = wiredPair({ maxPayload: 1_048_576 });
    const overhead = serialize(['t', 1, new Uint8Array(MAX_NATS_MESSAGE_BYTES)]).byteLength - MAX_NATS_MESSAGE_BYTES;
    const payload = new Uint8Array(MAX_NATS_MESSAGE_BYTES - overhead + 1);
    expect(serialize(['t', 1, payload]).byteLength).to.equal(MAX_NATS_MESSAGE_BYTES + 1);
    const err = thrown(() => a.peer.send(['t', 1, payload]));
    expect(err).to.be.instanceOf(DOMException);
    expect(err.name).to.equal('DataCloneError');
    expect(err.message).to.match(/^\[value-too-large\] a message of \d+ bytes is larger than a node session carries/);
    expect(a.published).to.have.length(0);

    a.peer.send(['t', 2, 'next']);
    await settled();
    expect(b.messages, 'the refused message used no sequence number').to.deep.equal([['t', 2, 'next']]);
    expect(b.events).to.deep.equal([]);
  });

  it('throws DataCloneError for a value that cannot be cloned (a function, a SharedArrayBuffer), and the session goes on', async () => {
    const { a, b } = wiredPair();
    let called = false;
    const err = thrown(() => a.peer.send(['t', 1, { fn: () => 1 }], undefined, undefined, () => (called = true)));
    expect(err).to.be.instanceOf(DOMException);
    expect(err.name).to.equal('DataCloneError');
    expect(err.message).to.match(/could not be cloned/);
    const shared = thrown(() => a.peer.send(['t', 1, new SharedArrayBuffer(8)]));
    expect(shared).to.be.instanceOf(DOMException);
    expect(shared.name).to.equal('DataCloneError');
    expect(a.published).to.have.length(0);
    expect(called, 'a refused send does not call back').to.equal(false);

    a.peer.send(['t', 2, 'next']);
    await settled();
    expect(b.messages).to.deep.equal([['t', 2, 'next']]);
    expect(b.events).to.deep.equal([]);
  });
});

describe('marshal/transports/nats-peer: after disconnect() the session sends nothing', () => {
  it("emits 'disconnect' once, and send returns false and calls back with an error", async () => {
    const { a, b } = wiredPair();
    a.peer.disconnect();
    a.peer.disconnect();
    expect(a.events).to.deep.equal(['disconnect']);
    expect(a.peer.connected).to.equal(false);
    const results: (Error | null)[] = [];
    expect(a.peer.send(['t', 1, 'late'], undefined, undefined, (error) => results.push(error))).to.equal(false);
    expect(results).to.have.length(1);
    expect(results[0]).to.be.instanceOf(Error);
    expect(results[0]!.message).to.match(/^\[node-session\]/);
    await settled();
    expect(a.published).to.have.length(0);
    expect(b.messages).to.deep.equal([]);
  });

  it('takes no frame after it ended', async () => {
    const { a, b } = wiredPair();
    b.peer.disconnect();
    a.peer.send(['t', 1, 'late']);
    await settled();
    expect(a.published).to.have.length(1);
    expect(b.messages).to.deep.equal([]);
    expect(b.events).to.deep.equal(['disconnect']);
  });
});

describe('marshal/transports/nats-peer: decodeFrame answers why bytes are not a frame', () => {
  const frame = (...fields: unknown[]): Uint8Array => serialize(fields);

  it('decodes a well-formed frame', () => {
    const map = new Map([['k', new Date(3)]]);
    expect(decodeFrame(frame('a', SESSION, 5, 't', 2, map))).to.deep.equal({ from: 'a', session: SESSION, seq: 5, tag: 't', link: 2, payload: map });
  });

  it('answers a sentence for bytes that do not deserialize', () => {
    for (const bytes of [new Uint8Array([1, 2, 3]), new Uint8Array([0xff, 0x0f, 0x99]), new Uint8Array(0), serialize(['a', 'ea', 0, 't', 0, 'x']).subarray(0, 12)]) {
      const answer = decodeFrame(bytes);
      expect(answer).to.be.a('string');
      expect(answer).to.match(/^bytes that do not deserialize/);
    }
  });

  it('answers a sentence for a frame that would deserialize far larger than its bytes, without building it', () => {
    const heapBefore = process.memoryUsage().heapUsed;
    // Four million empty objects as the payload: 12 MB of frame, some 290 MB of heap by the estimate.
    const count = 4_000_000;
    const payload = emptyObjectsValue(count);
    // The frame with its last field (null: one byte, before the array's end of three) replaced.
    const head = Buffer.from(frame('a', SESSION, 5, 't', 2, null));
    const bytes = Buffer.concat([head.subarray(0, head.length - 4), payload, head.subarray(head.length - 3)]);
    expect(decodeFrame(bytes)).to.match(/^a frame larger than a session rebuilds \(it would build more than 268435456 bytes of values once deserialized\)$/);
    expect(process.memoryUsage().heapUsed - heapBefore, 'nothing of it was built').to.be.below(64 * 2 ** 20);
  });

  it('answers a sentence for a value that is not a six-field array', () => {
    for (const value of [serialize({ from: 'a' }), serialize('frame'), serialize(null), frame('a', 'ea', 0, 't', 0), frame('a', 'ea', 0, 't', 0, null, 'extra')]) {
      expect(decodeFrame(value)).to.equal('a frame that is not [from, session, seq, tag, link, payload]');
    }
  });

  it('answers a sentence for a sender, session or tag that is not a string', () => {
    for (const value of [frame(1, 'ea', 0, 't', 0, null), frame('a', null, 0, 't', 0, null), frame('a', 'ea', 0, 7, 0, null)]) {
      expect(decodeFrame(value)).to.equal('a frame whose sender, session or tag is not a string');
    }
  });

  it('answers a sentence for a sequence or link number that is negative, fractional or not a number', () => {
    for (const value of [frame('a', 'ea', -1, 't', 0, null), frame('a', 'ea', 1.5, 't', 0, null), frame('a', 'ea', '0', 't', 0, null), frame('a', 'ea', 2 ** 53, 't', 0, null), frame('a', 'ea', 0, 't', -1, null), frame('a', 'ea', 0, 't', NaN, null)]) {
      expect(decodeFrame(value)).to.equal('a frame whose sequence or link number is not a whole number');
    }
  });
});

/** A batch of one message carrying `value` (the transport does not look inside). */
const batchOf = (value: unknown): Batch => [value] as unknown as Batch;

/** A link's two ends over a wired pair of sessions, listening; what each received and whether it closed. */
function linkOver(options: PairOptions = {}) {
  const { a, b } = wiredPair(options);
  const end = (peer: NatsPeer) => {
    const transport = new IpcTransport(5, peer);
    const state = { transport, received: [] as unknown[], closed: 0 };
    transport.listen((data) => state.received.push(data), () => state.closed++);
    return state;
  };
  return { a, b, near: end(a.peer), far: end(b.peer) };
}

describe('marshal/transports/nats-peer: an IPC transport over a session carries batches both ways', () => {
  it('delivers batches in order each way, a large one in parts', async () => {
    const { near, far } = linkOver({ maxPayload: 4_096 });
    const big = pattern(30_000);
    near.transport.send(batchOf({ n: 1, at: new Date(4) }));
    near.transport.send(batchOf({ n: 2, big }));
    far.transport.send(batchOf({ n: 3 }));
    near.transport.send(batchOf({ n: 4 }));
    await settled();
    expect(far.received.map((batch) => (batch as [{ n: number }])[0].n)).to.deep.equal([1, 2, 4]);
    expect(near.received).to.deep.equal([[{ n: 3 }]]);
    expect((far.received[0] as [{ at: Date }])[0].at).to.be.instanceOf(Date);
    expect(Buffer.compare((far.received[1] as [{ big: Uint8Array }])[0].big, big)).to.equal(0);
    expect([near.closed, far.closed]).to.deep.equal([0, 0]);
  });
});

describe('marshal/transports/nats-peer: a batch held until the session opened that cannot leave then closes its link', () => {
  it('closes the link with the reason instead of throwing into whoever opened it, and sends nothing after it', async () => {
    const { a, b } = wiredPair();
    const far = new IpcTransport(5, b.peer);
    const received: unknown[] = [];
    far.listen((data) => received.push(data), () => undefined);
    // Made before its session, as an apartment's link is until its thread says hello.
    const near = new IpcTransport(5);
    const closes: unknown[] = [];
    near.listen(() => undefined, (cause) => closes.push(cause));
    near.send(batchOf('before'));
    near.send(batchOf(new Uint8Array(MAX_NATS_MESSAGE_BYTES + 1)));
    near.send(batchOf('after'));
    // The hello's listener opens it: before, the throw went into the NATS client's callback.
    near.open(a.peer);
    await settled();
    expect(closes, 'closed once, with the reason').to.have.length(1);
    expect(String(closes[0])).to.contain('[value-too-large]');
    expect(received, 'what came before it went; nothing after it').to.deep.equal([batchOf('before')]);
    expect(a.peer.connected, 'the session serves its other links').to.equal(true);
  });
});

describe('marshal/transports/nats-peer: closing an IPC transport over a session closes the other end', () => {
  it("fires the other end's close listener, and the session stays open for other links", async () => {
    const { a, b, near, far } = linkOver();
    near.transport.close();
    await settled();
    expect([near.closed, far.closed]).to.deep.equal([1, 1]);
    expect([a.peer.connected, b.peer.connected]).to.deep.equal([true, true]);
    far.transport.send(batchOf('after close'));
    await settled();
    expect(near.received).to.deep.equal([]);
  });
});

describe('marshal/transports/nats-peer: the end of a session ends the IPC transports over it', () => {
  it("fires the close listener once when the session disconnects", () => {
    const { a, near } = linkOver();
    a.peer.disconnect();
    expect(near.closed).to.equal(1);
    near.transport.close();
    expect(near.closed).to.equal(1);
  });

  it('fires the receiving end\'s close listener when a frame is lost, and delivers nothing after it', async () => {
    const { b, near, far } = linkOver({ drop: (from, index) => from === 'a' && index === 0 });
    near.transport.send(batchOf('lost'));
    near.transport.send(batchOf('after the gap'));
    await settled();
    expect(far.received).to.deep.equal([]);
    expect(far.closed).to.equal(1);
    expectEndedWith(b, '[link-gap]');
  });
});
