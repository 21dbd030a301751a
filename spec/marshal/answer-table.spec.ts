import { expect } from 'chai';
import { MAX_KEPT_ANSWERS } from '../../marshal/answer-table.js';
import { Op } from '../../marshal/protocol.js';
import { remoteStateOf } from '../../marshal/proxy.js';
import { endpointPair, exportTo, type EndpointPair } from './fixtures/endpoint-pair.js';

/** Deliver `batch` to endpoint b as if a had sent it, and collect b's error replies by call id. */
async function deliver(pair: EndpointPair, batch: unknown[]): Promise<Map<number, { name: string; message: string }>> {
  const errors = new Map<number, { name: string; message: string }>();
  pair.ta.listen((data) => {
    for (const m of data as unknown[][]) if (m[0] === Op.Error) errors.set(m[1] as number, m[2] as { name: string; message: string });
  }, () => {});
  // A peer may send at most 1024 messages per batch: a longer run goes as several batches.
  for (let i = 0; i < batch.length; i += 1000) pair.tb.deliver(batch.slice(i, i + 1000));
  await new Promise((r) => setTimeout(r, 20));
  return errors;
}

describe('marshal/answer-table: pipelined calls from an untrusted peer', () => {
  it('answers a PipelineCall whose base is not an earlier call with a ProtocolError', async () => {
    const pair = endpointPair();
    const errors = await deliver(pair, [[Op.PipelineCall, 5, 0, 5, 'x', [], 0, 0], [Op.PipelineCall, 6, 3, 2, 'x', [], 0, 0]]);
    expect(errors.get(5)?.name).to.equal('ProtocolError');
    expect(errors.get(6)?.name, 'an object and a base at once').to.equal('ProtocolError');
  });

  it('answers a call on an answer that is not kept with a ProtocolError naming it', async () => {
    const pair = endpointPair();
    const errors = await deliver(pair, [[Op.PipelineCall, 9, 0, 4, 'add', [1, 2], 0, 0]]);
    expect(errors.get(9)?.name).to.equal('ProtocolError');
    expect(errors.get(9)?.message).to.match(/^\[pipeline\] call 9 targets the answer of call 4/);
  });

  it(`keeps at most ${MAX_KEPT_ANSWERS} answers per peer and refuses more with CallRejectedError`, async () => {
    const pair = endpointPair();
    const svc = await exportTo<object>(pair, { add: (a: number, b: number) => a + b });
    const oid = remoteStateOf(svc)!.oid;
    const first = 1_000;
    const batch = Array.from({ length: MAX_KEPT_ANSWERS + 3 }, (_, i) => [Op.PipelineCall, first + i, oid, 0, 'add', [i, 1], 0, 0]);
    const errors = await deliver(pair, batch);
    expect(errors.size).to.equal(3);
    expect(errors.get(first + MAX_KEPT_ANSWERS)?.name).to.equal('CallRejectedError');
    expect(pair.b.stats().answers).to.equal(MAX_KEPT_ANSWERS);
    await deliver(pair, batch.map((m) => [Op.ReleaseAnswer, m[1]]));
    expect(pair.b.stats().answers, 'released answers are forgotten').to.equal(0);
  });
});
