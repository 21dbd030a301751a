import { expect } from 'chai';
import type { BufferProbe } from '../fixtures/buffer-probe.js';
import { transfer } from '../../marshal/by-ref.js';
import { fixture, startRuntime } from '../fixtures/runtime-fixture.js';

const KiB = 1024;

function filled(bytes: number): ArrayBuffer {
  const buffer = new ArrayBuffer(bytes);
  new Uint8Array(buffer).forEach((_, i, a) => (a[i] = (i * 13 + 5) & 0xff));
  return buffer;
}

const sumOf = (v: ArrayBuffer | ArrayBufferView): number =>
  (v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength)).reduce((s, x) => s + x, 0);

for (const transport of ['port', 'shared-memory'] as const) {
  describe(`apartments/large-values: large buffers copied to a worker apartment arrive whole and keep their shape (${transport})`, () => {
    async function probe(): Promise<BufferProbe> {
      const { rt } = await startRuntime({ transport });
      rt.registerClass('BufferProbe', { module: fixture('buffer-probe.js'), export: 'BufferProbe' });
      return (await rt.createApartment({ name: 'buffers' })).createObject<BufferProbe>('BufferProbe') as unknown as BufferProbe;
    }

    it('copies buffers and views both ways, and the caller keeps its own', async () => {
      const p = await probe();
      for (const bytes of [100, 32 * KiB, 256 * KiB]) {
        const buffer = filled(bytes);
        expect(await p.describe(buffer), `${bytes} bytes`).to.deep.equal({ kind: 'ArrayBuffer', byteLength: bytes, byteOffset: 0, bufferLength: bytes, resizable: false, sum: sumOf(buffer) });
        const back = (await p.echo(buffer)) as ArrayBuffer;
        expect(back, 'a copy came back').to.not.equal(buffer);
        expect(sumOf(back)).to.equal(sumOf(buffer));
        expect(buffer.byteLength, 'the caller still has its buffer').to.equal(bytes);
      }
      const big = filled(64 * KiB);
      const view = Buffer.from(big, 1000, 5000);
      expect(await p.describe(view)).to.deep.equal({ kind: 'Uint8Array', byteLength: 5000, byteOffset: 1000, bufferLength: 64 * KiB, resizable: false, sum: sumOf(view) });
      const words = new Float64Array(big, 8, 100);
      const echoed = (await p.echo(words)) as Float64Array;
      expect(echoed).to.be.instanceOf(Float64Array);
      expect([echoed.byteOffset, echoed.length, echoed.buffer.byteLength]).to.deep.equal([8, 100, 64 * KiB]);
      expect(Array.from(echoed)).to.deep.equal(Array.from(words));
    });

    it('keeps one buffer one buffer: two views of it, a view and the buffer, the buffer in a Map beside itself, a view twice', async () => {
      const p = await probe();
      const big = filled(64 * KiB);
      expect(await p.sameBuffer(new Uint8Array(big, 0, 10), new Int16Array(big, 64, 10))).to.equal(true);
      expect(await p.sameBuffer(big, new DataView(big))).to.equal(true);
      expect(await p.sameBuffer(big, new Map([[1, big]]))).to.equal(true);
      expect(await p.sameBuffer(big, filled(64 * KiB))).to.equal(false);
      const view = new Uint8Array(big);
      expect(await p.same(view, view), 'one view met twice').to.equal(true);
    });

    it('moves what the caller moves, and clones resizable and shared buffers as before', async () => {
      const p = await probe();
      const moved = filled(64 * KiB);
      const sum = sumOf(moved);
      expect((await p.describe(transfer(moved, [moved]))).sum).to.equal(sum);
      expect(moved.byteLength, 'moved away').to.equal(0);
      const resizable = new ArrayBuffer(64 * KiB, { maxByteLength: 128 * KiB });
      expect((await p.describe(resizable)).resizable, 'still resizable').to.equal(true);
      const shared = new SharedArrayBuffer(64 * KiB);
      const view = new Uint8Array(shared);
      expect(await p.writeShared(view, 10, 42), 'a shared buffer arrives shared').to.equal(true);
      expect(view[10], 'and its write is seen here').to.equal(42);
    });

    it('delivers what travels beside a large buffer as before: a Map holding it, a buffer the caller moves, a stream', async () => {
      const p = await probe();
      const big = filled(64 * KiB);
      const moved = filled(64 * KiB);
      async function* items(): AsyncGenerator<number> {
        yield 1;
        yield 2;
        yield 3;
      }
      const got = await p.beside(big, new Map([[1, big]]), transfer({ buf: moved }, [moved]), items());
      expect(got).to.deep.equal({ same: true, moved: 64 * KiB, items: [1, 2, 3] });
      expect(moved.byteLength, 'moved away').to.equal(0);
      expect(big.byteLength, 'the copied buffer stays').to.equal(64 * KiB);
    });
  });
}
