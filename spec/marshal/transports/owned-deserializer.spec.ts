import { serialize } from 'node:v8';
import { expect } from 'chai';
import { deserializeOwned } from '../../../marshal/transports/owned-deserializer.js';

describe('marshal/transports/owned-deserializer: every view in a peer\'s value owns exactly its bytes', () => {
  it('copies typed arrays, Buffers and DataViews onto buffers of their own size, contents and kinds intact', () => {
    const shared = new ArrayBuffer(4_096);
    new Uint8Array(shared).fill(9);
    const value = { small: new Uint8Array(shared, 100, 3), text: Buffer.from('hey'), view: new DataView(new ArrayBuffer(8)), floats: new Float64Array([1.5, 2.5]), plain: new ArrayBuffer(16) };
    const bytes = serialize(value);
    const out = deserializeOwned(bytes) as typeof value;
    expect(out.small).to.be.instanceOf(Uint8Array);
    expect([...out.small]).to.deep.equal([9, 9, 9]);
    expect(out.small.buffer.byteLength, 'its own 3 bytes, not the frame').to.equal(3);
    expect(Buffer.isBuffer(out.text)).to.equal(true);
    expect(out.text.toString()).to.equal('hey');
    expect(out.text.buffer.byteLength).to.equal(3);
    expect(out.view).to.be.instanceOf(DataView);
    expect(out.view.buffer.byteLength).to.equal(8);
    expect([...out.floats]).to.deep.equal([1.5, 2.5]);
    expect(out.floats.buffer.byteLength).to.equal(16);
    expect(out.plain.byteLength).to.equal(16);
  });

  it('throws as v8.deserialize does on bytes that are not a value', () => {
    expect(() => deserializeOwned(serialize('a string cut short').subarray(0, 6))).to.throw();
  });
});
