import { serialize } from 'node:v8';
import { expect } from 'chai';
import { decodeFrame, NatsPeer, type NatsFrame } from '../../../marshal/transports/nats-peer.js';

// A session sends a message whose payload is a one-byte string (an encoded batch) as a text frame,
// written without a v8 serializer, and anything else as a v8 frame; both arrive as sent. A text
// frame from a peer is read as hostile bytes: what does not fit its header is a sentence, not a frame.

const SESSION = 'ea.1';
const TEXT_FRAME = 0xb1;

/** A session of node 'a' with node 'b' whose frames are kept, not sent. */
function sender(name = 'a', maxPayload = 1_048_576): { peer: NatsPeer; published: Uint8Array[] } {
  const published: Uint8Array[] = [];
  return { peer: new NatsPeer({ name, maxPayload, publish: (bytes) => void published.push(new Uint8Array(bytes)) }, 'b', SESSION), published };
}

/** Decode `bytes`, failing the spec when they are not a frame. */
function frameOf(bytes: Uint8Array): NatsFrame {
  const frame = decodeFrame(bytes);
  if (typeof frame === 'string') throw new Error(frame);
  return frame;
}

/** Every character a one-byte string holds, in a scrambled order. */
const EVERY_BYTE = Array.from({ length: 256 }, (_, i) => String.fromCharCode((i * 167) & 0xff)).join('');

describe('marshal/transports/nats-peer: a one-byte string payload goes as a text frame and arrives exact', () => {
  it('sends [tag, link, latin1 string] as a text frame and decodes every character, link and sequence number back', () => {
    const { peer, published } = sender();
    peer.send(['apartment:batch', 0, EVERY_BYTE]);
    peer.send(['apartment:batch', 0xffff_ffff, '']);
    peer.send(['apartment:close', 7, 'x'.repeat(70_000)]);
    expect(published.map((bytes) => bytes[0])).to.deep.equal([TEXT_FRAME, TEXT_FRAME, TEXT_FRAME]);
    expect(published.map(frameOf)).to.deep.equal([
      { from: 'a', session: SESSION, seq: 0, tag: 'apartment:batch', link: 0, payload: EVERY_BYTE },
      { from: 'a', session: SESSION, seq: 1, tag: 'apartment:batch', link: 0xffff_ffff, payload: '' },
      { from: 'a', session: SESSION, seq: 2, tag: 'apartment:close', link: 7, payload: 'x'.repeat(70_000) },
    ]);
  });

  it('sends a string with characters past one byte, a link past 32 bits and a non-string payload as v8 frames, exact', () => {
    const { peer, published } = sender();
    peer.send(['t', 1, 'price: 5 €, 😀']);
    peer.send(['t', 2 ** 32, 'x']);
    peer.send(['t', 3, { text: 'x' }]);
    peer.send(['t', 4, 'one-byte again']);
    expect(published.map((bytes) => bytes[0])).to.deep.equal([0xff, 0xff, 0xff, TEXT_FRAME]);
    expect(published.map(frameOf).map((f) => [f.seq, f.link, f.payload])).to.deep.equal([
      [0, 1, 'price: 5 €, 😀'],
      [1, 2 ** 32, 'x'],
      [2, 3, { text: 'x' }],
      [3, 4, 'one-byte again'],
    ]);
  });

  it('uses v8 frames when a name or tag is longer than a text frame holds, and a text frame for non-ASCII names that fit', () => {
    const long = sender('n'.repeat(300));
    long.peer.send(['t', 1, 'x']);
    expect(long.published[0]![0]).to.equal(0xff);
    expect(frameOf(long.published[0]!).from).to.equal('n'.repeat(300));

    const { peer, published } = sender('nœud-é');
    peer.send(['t'.repeat(256), 1, 'x']);
    peer.send(['tâg', 2, 'y']);
    expect(published.map((bytes) => bytes[0])).to.deep.equal([0xff, TEXT_FRAME]);
    expect(published.map(frameOf).map((f) => [f.from, f.tag, f.payload])).to.deep.equal([['nœud-é', 't'.repeat(256), 'x'], ['nœud-é', 'tâg', 'y']]);
  });

  it('sends a one-byte string larger than one NATS message in parts, which arrive as the string', () => {
    const { peer, published } = sender('a', 4_096);
    const receiving = new NatsPeer({ name: 'b', maxPayload: 4_096, publish: () => undefined }, 'a', SESSION);
    const messages: unknown[] = [];
    receiving.on('message', (m) => messages.push(m));
    const large = EVERY_BYTE.repeat(40);
    peer.send(['apartment:batch', 1, large]);
    expect(published.length).to.be.greaterThan(2);
    expect(published.every((bytes) => bytes.byteLength <= 4_096 && bytes[0] === 0xff)).to.equal(true);
    for (const bytes of published) receiving.receive(frameOf(bytes));
    expect(messages).to.deep.equal([['apartment:batch', 1, large]]);
  });

  it('hands a text frame to the receiving session as the message that was sent', () => {
    const { peer, published } = sender();
    const receiving = new NatsPeer({ name: 'b', maxPayload: 1_048_576, publish: () => undefined }, 'a', SESSION);
    const messages: unknown[] = [];
    receiving.on('message', (m) => messages.push(m));
    peer.send(['apartment:batch', 5, EVERY_BYTE]);
    peer.send(['apartment:batch', 6, { not: 'text' }]);
    for (const bytes of published) receiving.receive(frameOf(bytes));
    expect(messages).to.deep.equal([['apartment:batch', 5, EVERY_BYTE], ['apartment:batch', 6, { not: 'text' }]]);
  });
});

describe('marshal/transports/nats-peer: decodeFrame reads a text frame as hostile bytes', () => {
  /** A text frame's bytes from its parts, lengths as given (so they may lie). */
  const textFrame = (...parts: (number | string | Buffer)[]): Buffer =>
    Buffer.concat([Buffer.from([TEXT_FRAME]), ...parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : Buffer.isBuffer(p) ? p : Buffer.from(p, 'utf8')))]);
  const numbers = (seq: number, link: number): Buffer => {
    const bytes = Buffer.alloc(12);
    bytes.writeDoubleLE(seq, 0);
    bytes.writeUInt32LE(link, 8);
    return bytes;
  };

  it('decodes a well-formed text frame written by hand', () => {
    expect(decodeFrame(textFrame(1, 'a', 4, SESSION, 1, 't', numbers(9, 2), 'pay'))).to.deep.equal({ from: 'a', session: SESSION, seq: 9, tag: 't', link: 2, payload: 'pay' });
  });

  it('answers a sentence for a header that runs past the bytes', () => {
    for (const bytes of [
      textFrame(),
      textFrame(5, 'a'),
      textFrame(1, 'a', 200, SESSION),
      textFrame(1, 'a', 4, SESSION),
      textFrame(1, 'a', 4, SESSION, 9, 't'),
      textFrame(1, 'a', 4, SESSION, 1, 't', Buffer.alloc(11)),
    ]) {
      expect(decodeFrame(bytes)).to.equal('a text frame shorter than its header');
    }
  });

  it('answers a sentence for a sequence number that is negative, fractional, too large or not a number', () => {
    for (const seq of [-1, 1.5, 2 ** 53, NaN, Infinity]) {
      expect(decodeFrame(textFrame(1, 'a', 4, SESSION, 1, 't', numbers(seq, 0)))).to.equal('a frame whose sequence or link number is not a whole number');
    }
  });

  it('still reads v8 frames, and tells both kinds apart by their first byte', () => {
    expect(decodeFrame(serialize(['a', SESSION, 3, 't', 1, 'v8']))).to.deep.equal({ from: 'a', session: SESSION, seq: 3, tag: 't', link: 1, payload: 'v8' });
    expect(decodeFrame(new Uint8Array([0x42, 1, 2]))).to.match(/^bytes that do not deserialize/);
  });
});
