import { expect } from 'chai';
import fc from 'fast-check';
import { byRef } from '../../marshal/by-ref.js';
import { ProtocolError } from '../../marshal/errors.js';
import { Op } from '../../marshal/protocol.js';
import { WireDecoder } from '../../marshal/transports/wire-serializer.js';
import { aBatch, aRecord, encodeRecord, fuzzSettings } from '../fixtures/wire-arbitraries.js';
import { endpointPair } from './fixtures/endpoint-pair.js';

// Property-based fuzzing of the marshal layer from a hostile peer's side: random and mutated ring
// records into the decoder, random batches at every opcode into a channel. Fixed seed; set
// FUZZ_RUNS for a longer run (FUZZ_SEED for another one).

describe('marshal/wire-fuzz: the ring decoder on random and mutated records', () => {
  it('returns a value or throws ProtocolError, and reads nothing outside the record', () => {
    fc.assert(fc.property(aRecord, fc.nat({ max: 16 }), (payload, offset) => {
      // The record sits inside a larger buffer, as in the ring; the guard bytes around it are junk.
      const ring = new Uint8Array(offset + payload.length + 16).fill(0x09);
      ring.set(payload, offset);
      try {
        new WireDecoder(ring).decode(offset, payload.length);
      } catch (err) {
        expect(err, String((err as Error)?.stack)).to.be.instanceOf(ProtocolError);
      }
    }), fuzzSettings(2_000));
  });

  it('decodes what the encoder wrote back to an equal value', () => {
    fc.assert(fc.property(aBatch, (batch) => {
      const bytes = encodeRecord(batch);
      if (bytes === undefined) return;
      expect(new WireDecoder(bytes).decode(0, bytes.length)).to.deep.equal(batch);
    }), fuzzSettings(500));
  });
});

describe('marshal/wire-fuzz: a channel fed random batches at every opcode', () => {
  it('never throws; afterwards the link is faulted or still answers calls, and the exports stay consistent', async () => {
    await fc.assert(fc.asyncProperty(fc.array(aBatch, { minLength: 1, maxLength: 4 }), async (batches) => {
      const pair = endpointPair(60_000);
      try {
        // Endpoint 2 serves a counter that endpoint 1 holds a reference to (object 1).
        let count = 0;
        const counter = byRef({ add: () => ++count });
        pair.b.control = { ping: () => 'pong', counter: () => counter };
        await pair.a.call(2, 0, 'counter', []);
        for (const batch of batches) pair.tb.deliver(batch);
        // Replies to forged requests carry call ids endpoint 1 never used: let them arrive (and be
        // dropped there) before its own next call takes one of those ids.
        for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
        const faulted = pair.lifecycle[2].some((m) => m[0] === Op.PeerGone);
        if (!faulted) expect(await pair.a.call(2, 0, 'ping', [])).to.equal('pong');
        expect(pair.b.stats().exports, 'exports never go negative or grow from forged input').to.be.at.most(1);
      } finally {
        pair.a.close(new Error('spec over'));
        pair.b.close(new Error('spec over'));
      }
    }), fuzzSettings(200));
  });
});
